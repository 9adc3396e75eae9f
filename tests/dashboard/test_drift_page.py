"""The Drift & clusters page through AppTest on a real analysed warehouse: empty state, the map,
the cluster table and its sorting, drill-down links, and logged text shown as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from models.drift.analyze import AnalyzeOptions, run_analysis
from tests.models.analyze_data import START, insert_events, insert_votes, make_events

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
HOSTILE = "<script>alert('x')</script> refund my order <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drift_page") / "warehouse.duckdb"
    early = make_events(900, seed=1, weeks=4, models=("model-a",))
    late = make_events(
        300,
        seed=2,
        weeks=1,
        start=START + dt.timedelta(weeks=4),
        id_prefix="late",
        models=("model-b",),
        topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1, "crypto": 2},
    )
    hostile = pl.DataFrame(
        {
            "event_id": [f"evil{i}" for i in range(30)],
            # the newest events, so they head the drill-down's event list
            "ts": [START + dt.timedelta(weeks=4, days=6, hours=23, minutes=i) for i in range(30)],
            "input_text": [HOSTILE] * 30,
            "output_text": ["ok"] * 30,
            "model": ["model-b"] * 30,
            "topic": ["refund"] * 30,
        }
    )
    with connect(path) as con:
        for frame in (early, late, hostile):
            insert_events(con, frame)
        # model-b does worse on refunds: votes down on every late refund event
        votes = pl.concat(
            [
                early.filter(pl.col("topic") == "refund")
                .select("event_id")
                .with_columns(pl.lit(1.0).alias("value")),
                late.filter(pl.col("topic") == "refund")
                .select("event_id")
                .with_columns(pl.lit(0.0).alias("value")),
            ]
        )
        insert_votes(con, votes)
    run_analysis(path, AnalyzeOptions(k=5, embed_dim=24))
    return path


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.switch_page("app_pages/drift.py")
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_without_analysis_the_page_says_what_to_run(db_path, monkeypatch) -> None:
    with connect(db_path) as con:
        insert_events(con, make_events(20))
    at = _app(db_path, monkeypatch)
    _ok(at)
    assert any("reviewdeck analyze" in i.value for i in at.info)


def test_page_shows_verdict_table_and_drilldown(analysed, monkeypatch) -> None:
    at = _app(analysed, monkeypatch)
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Drift found"] == "yes"  # the stored default windows: week 5 vs 1-4
    assert metrics["Overall drift (MMD)"] == "drift"
    # New topics come first: the planted crypto questions, named, with their examples as text.
    assert int(metrics["New topics"]) >= 1
    heads = [m.value for m in at.markdown if m.value.startswith("**New topic 1:")]
    assert heads and "crypto" in heads[0], [m.value for m in at.markdown][:5]
    assert any("crypto" in t.value for t in at.text)
    # Its events are listed only when asked for (a toggle), then all of them, as text.
    before = [d.value for d in at.dataframe]
    at.toggle(key="drift_topic_1").set_value(True).run()
    _ok(at)
    after = [d.value for d in at.dataframe]
    assert len(after) == len(before) + 1
    n_named = int(heads[0].split("** · ")[1].split(" sampled events")[0].replace(",", ""))
    listed = [d for d in after if len(d) == n_named and "input_text" in d.columns]
    assert listed and listed[0]["input_text"].str.contains("crypto").mean() > 0.5
    table = next(d.value for d in at.dataframe if "share_reference" in d.value.columns)
    with connect(analysed, read_only=True) as con:
        n_active = con.execute("SELECT count(*) FROM clusters WHERE active").fetchall()[0][0]
    assert len(table) == n_active
    # Sorted by drift: flagged clusters first.
    statuses = list(table["status"])
    assert statuses[0] != "stable"
    assert statuses == sorted(statuses, key=lambda s: s == "stable")


def test_sorting_by_quality_drop_puts_the_regression_first(analysed, monkeypatch) -> None:
    at = _app(analysed, monkeypatch)
    at.radio(key="drift_sort").set_value("quality drop").run()
    _ok(at)
    table = next(d.value for d in at.dataframe if "share_reference" in d.value.columns)
    drops = table["quality_drop"].dropna().tolist()
    assert drops and drops == sorted(drops, reverse=True)
    assert "refund" in table["label"].iloc[0]


def test_every_colouring_of_the_map_renders(analysed, monkeypatch) -> None:
    at = _app(analysed, monkeypatch)
    for colour in ("cluster", "window", "model", "feedback"):
        at.radio(key="drift_color").set_value(colour).run()
        _ok(at)
    assert any("events (a sample stratified" in c.value for c in at.caption)


def test_drilldown_links_to_the_cluster_events(analysed, monkeypatch) -> None:
    at = _app(analysed, monkeypatch)
    cluster = at.selectbox(key="drift_cluster").value
    links = [el for el in at.main if getattr(el, "type", "") == "page_link"]
    wanted = f"cluster={cluster}"
    assert any(wanted in str(el.proto) for el in links), [str(el.proto) for el in links]


def test_logged_text_is_shown_as_text_never_markup(analysed, monkeypatch) -> None:
    with connect(analysed, read_only=True) as con:
        cluster = con.execute(
            "SELECT cluster_id FROM cluster_members WHERE event_id = 'evil0'"
        ).fetchall()[0][0]
    at = _app(analysed, monkeypatch)
    at.selectbox(key="drift_cluster").set_value(cluster).run()
    _ok(at)
    events = [d.value for d in at.dataframe if "input_text" in d.value.columns][-1]
    assert HOSTILE in set(events["input_text"])  # shown verbatim, as data
    for md in at.markdown:
        assert "<script" not in md.value and "onerror" not in md.value


def test_windows_come_from_the_url_and_go_back_into_it(analysed, monkeypatch) -> None:
    monkeypatch.setenv("REVIEWDECK_DB", str(analysed))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["ref"] = "2026-09-07..2026-09-27"
    at.query_params["cur"] = "2026-09-28..2026-10-04"
    at.switch_page("app_pages/drift.py")
    at.run()
    _ok(at)
    assert at.date_input(key="drift_reference").value == (
        dt.date(2026, 9, 7), dt.date(2026, 9, 27))
    assert at.date_input(key="drift_current").value == (dt.date(2026, 9, 28), dt.date(2026, 10, 4))
    # weeks 1-3 against week 4: nothing planted, so nothing new
    assert {m.label: m.value for m in at.metric}["New topics"] == "0"
    at.date_input(key="drift_current").set_value((dt.date(2026, 10, 5), dt.date(2026, 10, 11)))
    at.run()
    _ok(at)
    assert at.query_params["cur"] in ("2026-10-05..2026-10-11", ["2026-10-05..2026-10-11"])
    assert at.query_params["ref"] in ("2026-09-07..2026-09-27", ["2026-09-07..2026-09-27"])
    assert int({m.label: m.value for m in at.metric}["New topics"]) >= 1  # week 5: crypto


def test_the_cluster_event_list_holds_only_the_current_window(analysed, monkeypatch) -> None:
    monkeypatch.setenv("REVIEWDECK_DB", str(analysed))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["ref"] = "2026-09-07..2026-09-20"
    at.query_params["cur"] = "2026-09-21..2026-09-27"
    at.switch_page("app_pages/drift.py")
    at.run()
    _ok(at)
    events = [d.value for d in at.dataframe if "input_text" in d.value.columns][-1]
    days = {t.date() for t in events["ts"]}
    assert days and all(dt.date(2026, 9, 21) <= d <= dt.date(2026, 9, 27) for d in days), days


def test_feedback_colouring_paints_negatives_in_the_colour_that_stands_out() -> None:
    from dashboard.charts_drift import FEEDBACK_COLOURS, map_chart

    points = pl.DataFrame({
        "x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 2.0], "colour": ["negative", "no vote / signal",
                                                               "thumbs up"],
        "text": ["a", "b", "c"], "cluster": ["c"] * 3, "model": ["m"] * 3, "day": ["d"] * 3,
    })
    spec = map_chart(points, "feedback").to_dict()
    scale = spec["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours == FEEDBACK_COLOURS
    assert colours["negative"] == "#d62728" and colours["no vote / signal"] == "#c7c7c7"
    # negatives drawn last, on top of the grey crowd
    data = next(iter(spec["datasets"].values()))
    assert data[-1]["colour"] == "negative"

"""The trends page shows the judge-corrected fail rate of the chosen week beside the raw judge
rate and the humans-only rate, with its interval and n, equal to models.judge_trust's figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from models.judge_trust import summary
from tests.models.judge_trust.fixtures import NAME, WEEKS, plant

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trends_corrected") / "warehouse.duckdb"
    with connect(path) as con:
        plant(con, n_events=900, n_labelled=400)
    return path


def test_the_week_shows_the_corrected_rate_of_the_judge(planted, monkeypatch) -> None:
    monkeypatch.setenv("REVIEWDECK_DB", str(planted))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["trends_week"] = "2026-11-02"  # the Monday of 2026-W45
    at.switch_page("app_pages/trends.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="trends_week_w").value == "2026-11-02"
    assert any(s.value == "Judge-corrected fail rates" for s in at.subheader)
    table = next(d.value for d in at.dataframe if "corrected 95% CI" in d.value.columns)
    assert list(table["evaluator"]) == [f"{NAME} v2"]
    with connect(planted, read_only=True) as con:
        t = summary.trust(con, NAME, "2", week=WEEKS[1])
    c = t.corrected
    row = table.iloc[0]
    assert row["judged"] == t.judged and row["human labels"] == t.overall.n
    assert row["corrected"] == pytest.approx(c.value)
    assert row["corrected 95% CI"] == f"{c.lo:.1%}–{c.hi:.1%}"
    assert row["judge fail rate"] == pytest.approx(c.judge_rate)
    assert row["humans only"] == pytest.approx(c.human_rate)
    # the planted judge is lenient, so correcting it raises the fail rate
    assert c.value > c.judge_rate


def test_new_topics_of_the_week_as_segments(tmp_path, monkeypatch) -> None:
    """The trends page, asked, shows the week's new topics with their rates, n and intervals,
    the Drift report's topics; weeks before the topic appeared have none."""
    import datetime as dt

    import polars as pl

    from ingest.load import derived
    from models.drift.analyze import AnalyzeOptions, run_analysis
    from tests.models.analyze_data import START, insert_events, insert_votes, make_events

    path = tmp_path / "w.duckdb"
    before = make_events(2000, weeks=5, seed=1)
    now = make_events(500, weeks=1, seed=2, start=START + dt.timedelta(weeks=5), id_prefix="w6-",
                      topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1,
                              "crypto": 1.5})
    events = pl.concat([before, now])
    votes = pl.DataFrame({"event_id": events["event_id"],
                          "value": [0.0 if t == "crypto" else 1.0 for t in events["topic"]]})
    with connect(path) as con:
        insert_events(con, events.drop("topic"))
        insert_votes(con, votes)
        derived.refresh(con)
    run_analysis(path, AnalyzeOptions(make_map=False))
    monkeypatch.setenv("REVIEWDECK_DB", str(path))

    def page(week: dt.date) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=180)
        at.query_params["trends_week"] = week.isoformat()
        at.switch_page("app_pages/trends.py")
        at.run()
        at.toggle(key="trends_new_topics").set_value(True).run()
        assert not at.exception, at.exception
        return at

    at = page((START + dt.timedelta(weeks=5)).date())
    table = next(d.value for d in at.dataframe if "negative 95% CI" in d.value.columns)
    top = table.iloc[0]
    assert "crypto" in top["topic"] or "bitcoin" in top["topic"]
    # every crypto question was voted down: the topic's thumbs-up rate is 0 of its votes
    assert top["votes"] > 0 and top["thumbs-up rate"] == 0.0
    assert top["thumbs-up 95% CI"].startswith("0.0%–")
    quiet = page((START + dt.timedelta(weeks=3)).date())
    assert any(s.value.startswith("No new topic in this week") for s in quiet.success)

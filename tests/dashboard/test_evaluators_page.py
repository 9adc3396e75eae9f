"""The Evaluators page through Streamlit's AppTest on a planted warehouse: a judge lenient on
one model, a random human review of a sample. Expected numbers come from models.judge_trust and
statsmodels on the same rows, so a page that shows the wrong version or sample fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from models.judge_trust import summary
from tests.models.judge_trust.fixtures import NAME, plant

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evaluators") / "warehouse.duckdb"
    with connect(path) as con:
        plant(con)
    return path


def _app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.switch_page("app_pages/evaluators.py")
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _frame(at: AppTest, first_column: str, having: str | None = None):
    """The page's table whose first column is `first_column` (AppTest exposes no table keys)."""
    return next(
        d.value for d in at.dataframe
        if list(d.value.columns)[:1] == [first_column]
        and (having is None or having in d.value.columns)
    )


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts + [i.value for i in at.info] + [w.value for w in at.warning])


def test_latest_version_with_agreement_and_corrected_rate(planted, monkeypatch):
    at = _app(planted, monkeypatch)
    assert not at.exception and not at.error
    assert at.selectbox(key="evaluators_name").value == NAME
    assert at.selectbox(key="evaluators_version").value == "2"
    with connect(planted, read_only=True) as con:
        t = summary.trust(con, NAME, "2")
    ref = cohens_kappa(np.asarray(t.overall.matrix))
    assert _metric(at, "Cohen's κ vs humans") == f"{ref.kappa:.2f}"
    assert _metric(at, "Errors") == "2" and _metric(at, "Unparsed") == "1"
    c = t.corrected
    assert _metric(at, "Raw judge") == f"{100 * c.judge_rate:.1f}%"
    assert _metric(at, "Humans only") == f"{100 * c.human_rate:.1f}%"
    assert _metric(at, "Judge-corrected") == f"{100 * c.value:.1f}%"
    text = _texts(at)
    # every number names the evaluator, version and sample
    assert f"helpful v2 · 600 events scored · {t.overall.n} with a human label" in text
    assert "narrower than humans-only" in text or "wider than humans-only" in text
    assert "random sample" in text
    weeks = _frame(at, "week", "corrected")
    assert list(weeks["week"]) == [w for w, _ in t.corrected_by_week]
    assert list(weeks["corrected"]) == pytest.approx([e.value for _, e in t.corrected_by_week])
    # per-week κ table, per model: the planted leniency on gpt-b shows
    kmodel = _frame(at, "model")
    by = dict(zip(kmodel["model"], kmodel["kappa"], strict=True))
    assert by["gpt-a"] > 0.6 > 0.3 > by["gpt-b"]
    kweek = _frame(at, "week", "kappa")
    assert int(kweek["n"].sum()) == t.overall.n
    # disagreements: openable, texts shown as text (the planted <b> markup stays literal)
    dis = _frame(at, "event_id")
    assert dis.shape[0] == t.disagreements.height
    assert all(j != h for j, h in zip(dis["judge"], dis["human"], strict=True))
    assert any("<b>bold</b>" in code.value for code in at.code)
    assert any("<script>" in code.value for code in at.code)  # an unparsed raw answer, as text


def test_older_version_is_selectable(planted, monkeypatch):
    at = _app(planted, monkeypatch)
    at.selectbox(key="evaluators_version").set_value("1").run()
    assert not at.exception and not at.error
    assert "helpful v1 · 600 events scored" in _texts(at)
    with connect(planted, read_only=True) as con:
        t1 = summary.trust(con, NAME, "1")
    fails = sum(w.fails for w in t1.weeks)
    assert _metric(at, "Fail rate (judge)") == f"{100 * fails / 600:.1f}%"


def test_verdict_stratified_review_says_why_no_corrected_rate(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        plant(con, stratify_by=f"verdict:{NAME}", n_events=120, n_labelled=60)
    at = _app(db, monkeypatch)
    assert not at.exception and not at.error
    assert not [m for m in at.metric if m.label == "Judge-corrected"]
    assert any("not a random sample" in w.value for w in at.warning)


def test_no_evaluator_rows_says_what_to_run(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        plant(con, with_evaluator=False, n_events=30, n_labelled=10, n_double=0)
    at = _app(db, monkeypatch)
    assert not at.exception and not at.error
    assert any("reviewdeck evaluate" in i.value for i in at.info)
    assert not at.get("arrow_vega_lite_chart") and not at.metric


def test_label_rubric_with_a_hostile_name_renders_as_text(tmp_path, monkeypatch):
    import datetime as dt

    from tests.models.judge_trust.fixtures import insert_rows

    name, version = "topic **[x](http://e.example)**", "v1 <b>"
    db = tmp_path / "w.duckdb"
    at_ = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    rows = []
    for i in range(60):
        label = ("billing", "tech", "other")[i % 3]
        base = {"event_id": f"ev{i:04d}", "name": name, "kind": "label", "value": None,
                "author": "judge", "ts": at_, "ingested_at": at_, "evaluator_version": version}
        rows.append({**base, "feedback_id": f"L{i}", "label": label, "source": "llm_judge"})
        if i < 30:  # a reviewer agrees except on every fourth event
            rows.append({**base, "feedback_id": f"H{i}", "source": "reviewer", "author": "ana",
                         "label": label if i % 4 else "tech", "evaluator_version": None})
    with connect(db) as con:
        plant(con, n_events=60, n_labelled=10, n_double=0, with_evaluator=False)
        insert_rows(con, [], rows)
        t = summary.trust(con, name)
    at = _app(db, monkeypatch)
    assert not at.exception and not at.error
    assert t.kind == "label" and t.overall.n == 30 and t.corrected is None
    assert _metric(at, "Cohen's κ vs humans") == f"{t.overall.kappa:.2f}"
    assert not [m for m in at.metric if m.label == "Judge-corrected"]  # pass/fail only
    # the name's Markdown is escaped: shown as the characters it is, never a link or bold
    caption = next(c.value for c in at.caption if "events scored" in c.value)
    assert caption.startswith("topic \\*\\*\\[x\\]\\(http\\://e\\.example\\)\\*\\* v1 \\<b\\>")
    confusion = _frame(at, "judge says")
    assert list(confusion["judge says"]) == ["billing", "other", "tech"]


def test_the_judge_people_check_opens_first(tmp_path, monkeypatch):
    """A code check sorted before it by name does not hide the reviewed judge on first open."""
    import datetime as dt

    from tests.models.judge_trust.fixtures import insert_rows

    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        plant(con, n_events=90, n_labelled=30, n_double=0)
        at = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
        rows = [{"feedback_id": f"c{i}", "event_id": f"ev{i:04d}", "name": "a_code_check",
                 "kind": "score", "value": 1.0, "label": "pass", "source": "code",
                 "author": "a_code_check@1", "ts": at, "ingested_at": at,
                 "evaluator_version": "1"} for i in range(90)]
        insert_rows(con, [], rows)
    page = _app(db, monkeypatch)
    assert not page.exception and not page.error
    assert page.selectbox(key="evaluators_name").options == [NAME, "a_code_check"]
    assert page.selectbox(key="evaluators_name").value == NAME

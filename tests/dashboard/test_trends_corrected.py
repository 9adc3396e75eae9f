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

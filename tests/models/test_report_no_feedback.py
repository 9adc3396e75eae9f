"""The weekly report on plain logs that carry no feedback (OpenAI request/response logs loaded
by the real loader): feedback rates are unmeasured, not 0%, and such a week is not "quiet"."""

from __future__ import annotations

from typer.testing import CliRunner

from dashboard.cli import app
from dashboard.report_render import headline_chart, render_html, render_markdown
from ingest.db import connect
from models.report import sections
from models.report.build import build_report
from models.report.model import week_label
from tests.conftest import DATA


def _report(db_path):
    loaded = CliRunner().invoke(app, ["ingest", str(DATA / "openai/logs.jsonl"), "--db",
                                      str(db_path)])  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0
        last = con.execute("SELECT max(ts) FROM events").fetchone()[0]
        return build_report(con, week_label(last.date()), base_url="http://localhost:8501")


def test_feedback_metrics_are_unmeasured_not_zero(db_path) -> None:
    report = _report(db_path)
    by_key = {m.key: m for m in report.headline}
    for key in ("thumbs_up", "negative", "coverage", "regenerated"):
        m = by_key[key]
        assert (m.value, m.lo, m.hi, m.p_value) == (None, None, None, None), m
        assert m.verdict == sections.NO_FEEDBACK
    # What comes with the event itself is still measured.
    assert by_key["error"].value is not None and by_key["error"].n == report.n_events
    assert not report.quiet
    assert report.summary[0].startswith("No feedback logged on this week's events")
    assert not any(line.startswith("A quiet week") for line in report.summary)


def test_packs_and_chart_show_no_number_for_unmeasured_rates(db_path) -> None:
    report = _report(db_path)
    labels = {m.label for m in report.headline if m.verdict == sections.NO_FEEDBACK}
    chart = headline_chart(report)
    plotted = set() if chart is None else {row["metric"] for row in chart.data.to_dicts()}
    assert plotted and not plotted & labels  # the error rate is drawn, feedback rates are not
    markdown = render_markdown(report)
    row = next(line for line in markdown.splitlines() if line.startswith("| Thumbs-up rate"))
    assert "0.0%" not in row and "no feedback logged" in row
    html = render_html(report, charts=False)
    assert "No feedback logged on this week" in html

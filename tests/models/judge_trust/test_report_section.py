"""The weekly pack's "Evaluators and review" section: review progress, agreement and the
corrected rate on the week's events, failure tags with examples; frozen numbers and both
renderings."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from dashboard.report_render import render_html, render_markdown
from ingest.db import connect
from models.judge_trust import summary
from models.report import snapshot
from models.report.build import build_report
from models.report.model import from_dict, report_numbers, to_dict
from tests.models.judge_trust.fixtures import NAME, plant

LABEL_WEEK = "2026-W46"  # the planted labels were all given in this week


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("pack") / "warehouse.duckdb"
    with connect(path) as con:
        truth = plant(con)
    return path, truth


def test_section_on_a_week(planted):
    db, truth = planted
    with connect(db, read_only=True) as con:
        report = build_report(con, "2026-W45")
        t = summary.trust(con, NAME, week="2026-W45")
    (ev,) = report.evaluators
    assert (ev.name, ev.version, ev.judged) == (NAME, "2", 200)
    assert ev.paired == t.overall.n and ev.paired > 50
    ref = cohens_kappa(np.asarray(t.overall.matrix))
    assert ev.kappa == pytest.approx(ref.kappa) and ev.kappa_lo == pytest.approx(ref.kappa_low)
    assert ev.corrected == pytest.approx(t.corrected.value)
    assert ev.rate < ev.human_rate  # the lenient judge
    assert ev.sample.startswith("helpful v2: 200 events scored")
    (q,) = report.review
    assert (q.queue_id, q.items, q.done) == (1, 240, 240)
    assert q.labels_this_week == 0  # labels were given in W46
    tags = {tg.tag: tg for tg in report.failure_tags}
    # W45 holds the events i % 3 == 1, whose planted failures are tagged hallucination
    expected = sum(
        1 for eid in truth["labelled"]
        if int(eid[2:]) % 3 == 1 and truth["truth"][int(eid[2:])]
    )
    assert set(tags) == {"hallucination"} and tags["hallucination"].n == expected
    assert all(ex.signal == f"reviewer tag {name}" for name, tg in tags.items()
               for ex in tg.examples)
    assert 0 < len(tags["hallucination"].examples) <= 3
    keys = {r.key: r for r in report_numbers(report)}
    assert keys["evaluator/helpful@2/kappa"].value == pytest.approx(ev.kappa)
    assert keys["evaluator/helpful@2/kappa"].n == ev.paired
    assert keys["evaluator/helpful@2/corrected_fail_rate"].lo == pytest.approx(ev.corrected_lo)
    assert keys["review/1/done"].value == 240
    assert from_dict(to_dict(report)) == report


def test_renderings_and_freeze(planted, tmp_path):
    db, _ = planted
    with connect(db, read_only=True) as con:
        report = build_report(con, LABEL_WEEK)
    assert report.review[0].labels_this_week > 200
    md = render_markdown(report)
    html = render_html(report, charts=False)
    for text in (md, html):
        assert "Evaluators and review" in text and "Top failure tags from reviewers" in text
        assert "Judge-corrected fail rate (prediction-powered inference" in text
        assert "helpful v2 (latest version)" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "/events?event=ev" in md  # disagreements and examples are openable
    with connect(db) as con:
        rid = snapshot.freeze(con, report)
        frozen = snapshot.reopen(con, rid)
        numbers = {r.key for r in snapshot.frozen_numbers(con, rid)}
    assert frozen.report.evaluators == report.evaluators
    assert "evaluator/helpful@2/fail_rate" in numbers and "tag/hallucination" in numbers


def test_warehouse_without_evaluators_says_what_to_run(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        plant(con, with_evaluator=False, n_events=60, n_labelled=20, n_double=0)
        report = build_report(con, "2026-W45")
    assert report.evaluators == () and len(report.review) == 1
    assert "reviewdeck evaluate" in render_markdown(report)

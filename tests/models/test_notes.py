"""Notes and action items: attached to a week's segment, cluster or event; open action items
carry over to later weeks until closed; they show in the report, escaped."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from dashboard.report_render import render_html, render_markdown
from ingest.db import connect
from models.report import notes
from models.report.build import build_report
from models.report.model import ReportError


def test_action_items_carry_over_until_closed(con):
    note = notes.add_note(
        con, "2026-W44", "billing looks off", target_kind="segment", target_id="tag=intent:billing"
    )
    action = notes.add_note(
        con,
        "2026-W44",
        "roll back the model for billing",
        is_action=True,
        owner="ana",
        target_kind="segment",
        target_id="tag=intent:billing",
    )
    later = notes.add_note(
        con, "2026-W46", "new topic: crypto", target_kind="cluster", target_id="7"
    )

    w44 = {n.note_id: n for n in notes.notes_for_week(con, "2026-W44")}
    assert set(w44) == {note, action}
    assert not w44[action].carried_over and not w44[action].closed

    w45 = {n.note_id: n for n in notes.notes_for_week(con, "2026-W45")}
    assert set(w45) == {action}  # plain notes stay in their week
    assert w45[action].carried_over and not w45[action].closed

    notes.close_note(con, action, week="2026-W46", closed_by="ana")
    w45 = {n.note_id: n for n in notes.notes_for_week(con, "2026-W45")}
    assert not w45[action].closed  # a past week shows it as it stood then
    w46 = {n.note_id: n for n in notes.notes_for_week(con, "2026-W46")}
    assert set(w46) == {action, later} and w46[action].closed
    assert [n.note_id for n in notes.notes_for_week(con, "2026-W47")] == []

    notes.reopen_note(con, action)
    assert [n.note_id for n in notes.notes_for_week(con, "2026-W47")] == [action]
    frame = notes.notes_frame(con, "2026-W47")
    assert frame["status"].to_list() == ["open"] and frame["carried over"].to_list() == [True]


def test_bad_notes_are_refused(con):
    with pytest.raises(ReportError, match="needs some text"):
        notes.add_note(con, "2026-W44", "   ")
    with pytest.raises(ReportError, match="use one of"):
        notes.add_note(con, "2026-W44", "x", target_kind="user")
    with pytest.raises(ReportError, match="needs the event's id"):
        notes.add_note(con, "2026-W44", "x", target_kind="event")
    with pytest.raises(ReportError, match="ISO week"):
        notes.add_note(con, "week 44", "x")
    with pytest.raises(ReportError, match="no note 42"):
        notes.close_note(con, 42)


def test_notes_appear_in_the_report_as_text(db_path):
    evil = "<script>alert('note')</script> & <b>bold</b>"
    with connect(db_path) as con:
        notes.add_note(
            con,
            "2026-W44",
            evil,
            is_action=True,
            target_kind="event",
            target_id="ev-1",
            author="<i>x</i>",
        )
        report = build_report(con, "2026-W45", base_url="http://localhost:8501")
    (item,) = report.notes
    assert item.text == evil and item.carried_over
    page = render_html(report, charts=False)
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in page
    assert "carried over from 2026-W44" in page
    text = render_markdown(report)
    # Backslash escapes, not HTML entities: inert in a renderer, and readable as raw text.
    assert "- [ ] \\<script\\>alert('note')\\</script\\> \\& \\<b\\>bold" in text
    assert "&lt;" not in text and "&amp;" not in text
    rendered = MarkdownIt("commonmark").render(text)  # a CommonMark renderer that passes HTML
    assert "<script" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert('note')&lt;/script&gt; &amp; &lt;b&gt;bold" in rendered

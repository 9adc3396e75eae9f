"""The events explorer through AppTest: URL filters select the right events, pages, and detail.

Expected event sets come from the test's own SQL over the seeded warehouse (tests/e2e/seed.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest.db import connect
from tests.e2e.seed import HOSTILE_ID, HOSTILE_RERUN_ID, MODELS, SCRIPT, seed

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
EVENTS_PAGE = "app_pages/events.py"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed(tmp_path_factory.mktemp("explorer") / "warehouse.duckdb")


# LLM calls that are production traffic (playground reruns are left out by default).
TRAFFIC = "kind = 'llm' AND rerun_of IS NULL"


def _ids(db: Path, where: str, params: list | None = None) -> list[str]:
    with connect(db, read_only=True) as con:
        rows = con.execute(
            f"SELECT event_id FROM events e WHERE {where} ORDER BY ts DESC, event_id",
            params or [],
        ).fetchall()
    return [r[0] for r in rows]


def _explorer(db: Path, monkeypatch: pytest.MonkeyPatch, **query: str | list[str]) -> AppTest:
    monkeypatch.setenv("REVIEWDECK_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page(EVENTS_PAGE)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _table_ids(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["event_id"])


def _count_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "events match" in c.value)


def test_drill_down_params_select_the_right_events(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, status="error", model=MODELS[0])
    expected = _ids(seeded, TRAFFIC + " AND status = 'error' AND model = ?", [MODELS[0]])
    assert 0 < len(expected) <= 50
    assert _table_ids(at) == expected
    assert _count_caption(at).startswith(f"{len(expected):,} events match")
    # The widgets show what the link asked for.
    assert at.selectbox(key="events_status").value == "error"
    assert at.multiselect(key="filter_models").value == [MODELS[0]]


def test_feedback_filter(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, feedback="thumbs_down")
    expected = _ids(
        seeded,
        "kind = 'llm' AND rerun_of IS NULL AND event_id IN (SELECT event_id FROM feedback "
        "WHERE name = 'thumbs' AND value = 0)",
    )
    assert _count_caption(at).startswith(f"{len(expected):,} events match")
    assert _table_ids(at) == expected[:50]


def test_text_search_finds_logged_html_literally(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, text="<script>", reruns="include")
    assert sorted(_table_ids(at)) == sorted([HOSTILE_ID, HOSTILE_RERUN_ID])
    # Playground reruns are not production traffic: left out unless asked for.
    at = _explorer(seeded, monkeypatch, text="<script>")
    assert _table_ids(at) == [HOSTILE_ID]
    at = _explorer(seeded, monkeypatch, text="<script>", reruns="only")
    assert _table_ids(at) == [HOSTILE_RERUN_ID]


def test_reruns_of_an_event(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, rerun_of=HOSTILE_ID)
    assert _table_ids(at) == [HOSTILE_RERUN_ID]


def test_cluster_filter_before_any_analysis_is_empty_not_an_error(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, cluster="3")
    assert any("No events match" in i.value for i in at.info)


def test_pages_follow_the_url_and_the_page_widget(seeded, monkeypatch):
    everything = _ids(seeded, "kind = 'llm' AND rerun_of IS NULL")
    at = _explorer(seeded, monkeypatch, page="2")
    assert _table_ids(at) == everything[50:100]
    at.number_input(key="events_page").set_value(3).run()
    assert _table_ids(at) == everything[100:150]
    assert at.query_params["page"] in ("3", ["3"])


def test_widget_change_goes_to_the_url_and_resets_the_page(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, page="4")
    at.selectbox(key="events_status").set_value("error").run()
    assert at.query_params["status"] in ("error", ["error"])
    assert "page" not in at.query_params
    assert _table_ids(at) == _ids(seeded, TRAFFIC + " AND status = 'error'")[:50]


def test_event_detail_shows_messages_as_text(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, event=HOSTILE_ID)
    texts = [t.value for t in at.text]
    # The logged script tag is shown as literal characters in a text element...
    assert any(SCRIPT in t for t in texts)
    assert any("<img src=x onerror=" in t for t in texts)
    # ...and never handed to markdown (which is where HTML could be interpreted).
    assert not any("<script>" in m.value for m in at.markdown)
    feedback = at.dataframe[1].value
    assert sorted(feedback["feedback_id"]) == ["fb-h1", "fb-h2", "fb-h3"]
    assert set(feedback["scope"]) == {"event", "trace"}
    reruns = at.dataframe[2].value
    assert list(reruns["event_id"]) == [HOSTILE_RERUN_ID]
    assert list(reruns["verdict"]) == ["better"]
    assert any(m.label == "Cost" and m.value == "$0.0042" for m in at.metric)


def test_unknown_event_says_so(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, event="no-such-event")
    assert any("No event with this id" in w.value for w in at.warning)


def test_reopen_in_playground_passes_the_event(seeded, monkeypatch):
    at = _explorer(seeded, monkeypatch, event=HOSTILE_ID)
    at.button(key="events_playground").click().run()
    assert not at.exception
    assert at.query_params["event"] in (HOSTILE_ID, [HOSTILE_ID])
    assert not any(b.key == "events_playground" for b in at.button)


def test_reopen_in_playground_carries_the_list_filter(seeded, monkeypatch):
    at = _explorer(
        seeded, monkeypatch, event=HOSTILE_ID, feedback="thumbs_down", model=MODELS[0], page="2"
    )
    at.button(key="events_playground").click().run()
    assert not at.exception
    got = {k: at.query_params.get(k) for k in ("event", "feedback", "model", "page")}
    assert got == {"event": HOSTILE_ID, "feedback": "thumbs_down", "model": MODELS[0],
                   "page": None}  # fmt: skip
    # the playground opened at that address starts its batch section from that filter
    # (AppTest stays on its first page after st.switch_page; the browser test follows the click)
    link = dict(at.query_params)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("app_pages/playground.py")
    at.query_params.update(link)
    at.run()
    at.segmented_control(key="playground_section").set_value("Batch rerun").run()
    assert at.selectbox(key="playground_batch_feedback").value == "thumbs_down"
    assert any(c.value == f"--where 'model={MODELS[0]}&feedback=thumbs_down'" for c in at.code), [
        c.value for c in at.code
    ]


def test_hostile_value_in_a_link_is_quoted_not_rendered(seeded, monkeypatch):
    hostile = "[click](javascript:alert(1)) ![x](https://example.invalid/x.png) :red[boo]"
    at = _explorer(seeded, monkeypatch, status=hostile)
    warning = next(w.value for w in at.warning if "Ignored a filter" in w.value)
    # Every Markdown-active character arrives escaped, so it renders as the characters typed.
    for raw in ("[click]", "(javascript:", "![x]", ":red["):
        assert raw not in warning
    assert r"\[click\]\(javascript\:alert\(1\)\)" in warning
    # The bad filter was ignored: the list shows every LLM event.
    total = len(_ids(seeded, "kind = 'llm' AND rerun_of IS NULL"))
    assert _count_caption(at).startswith(f"{total:,} events match")

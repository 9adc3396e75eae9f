"""Events explorer: the filtered list of events, and one event in full (`?event=<id>`).

Every filter lives in the URL (the shared keys of models.filters), so a drill-down link from any
page lands here already filtered, and a link to one event reopens that event. Logged text is
shown with st.text / st.json / st.dataframe only: it is data, never markup.
"""

import streamlit as st

from dashboard import cache, dataset_links, nav, queue_links
from dashboard.conversation import load_json, render_messages
from dashboard.filters_ui import current_filter, should_seed, sync_url, url_part
from dashboard.queries import explorer
from dashboard.safe_text import md_escape
from models.filters import (
    FEEDBACK_CHOICES,
    RERUN_CHOICES,
    STATUS_CHOICES,
    EventFilter,
    FilterError,
    from_query,
)

# Query-string keys this page owns (the sidebar owns the shared ones).
KEYS = (*nav.PAGE_FILTER_KEYS, "page")
_ANY = "(any)"
_WIDGETS = (
    "events_status",
    "events_feedback",
    "events_text",
    "events_cluster",
    "events_user",
    "events_kind",
    "events_rerun_of",
    "events_reruns",
    "events_dataset",
    "events_page",
)


def _detail(event_id: str) -> None:
    if st.button("Back to the list", icon=":material/arrow_back:", key="events_back"):
        del st.query_params["event"]
        st.rerun()
    ev = cache.query(explorer.event_detail, event_id)
    if ev is None:
        st.warning("No event with this id in the warehouse:", icon=":material/search_off:")
        st.code(event_id, language=None)
        st.stop()
    f = ev.fields
    st.caption("Event")
    st.code(event_id, language=None)
    # Model and prompt names are logged values too: plain text, not markdown.
    st.text(
        f"{f['ts']:%Y-%m-%d %H:%M:%S} UTC · {f['model'] or 'no model'} · "
        f"prompt {f['prompt_name'] or '-'} {f['prompt_version'] or ''}".rstrip()
    )
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Status", f["status"])
    c2.metric("Tokens in / out", f"{f['tokens_in'] or 0:,} / {f['tokens_out'] or 0:,}")
    c3.metric("Cost", "–" if f["cost_usd"] is None else f"${f['cost_usd']:.4f}")
    c4.metric("Latency", "–" if f["latency_ms"] is None else f"{f['latency_ms']:,.0f} ms")
    buttons = st.container(horizontal=True)
    if buttons.button(
        "Reopen in playground", icon=":material/science:", type="primary", key="events_playground"
    ):
        nav.open_playground(event_id, _link_filter())
    if f["rerun_of"] and buttons.button(
        "Open the original event", icon=":material/undo:", key="events_original"
    ):
        st.query_params["event"] = f["rerun_of"]
        st.rerun()
    if f["status"] == "error":
        # A warning, not st.error: the logged call failed, the app did not.
        st.warning("This call failed:", icon=":material/error:")
        st.code(
            f"{f['error_type'] or ''}: {f['error_message'] or ''}", language=None, wrap_lines=True
        )

    left, right = st.columns(2)
    for column, title, name in (
        (left, "Input messages", "input_messages"),
        (right, "Output messages", "output_messages"),
    ):
        with column:
            st.subheader(title)
            render_messages(f[name])

    st.subheader("Parameters")
    st.json(load_json(f["params"]) or {}, expanded=True)
    st.subheader("Details")
    shown = (
        "model",
        "model_requested",
        "provider",
        "prompt_name",
        "prompt_version",
        "kind",
        "name",
        "trace_id",
        "parent_id",
        "session_id",
        "user_id",
        "environment",
        "tags",
        "tokens_cache_read",
        "tokens_reasoning",
        "cost_source",
        "ttft_ms",
        "ts_end",
        "rerun_of",
        "source_format",
        "ingested_at",
    )
    st.dataframe(
        {"field": list(shown), "value": ["" if f[k] is None else str(f[k]) for k in shown]},
        hide_index=True,
        key="events_fields",
    )

    st.subheader("Feedback")
    fb = cache.query(explorer.event_feedback, event_id, f["trace_id"])
    if fb.is_empty():
        st.caption("No feedback on this event or its trace.")
    else:
        st.dataframe(fb, hide_index=True, key="events_feedback_table")
        for correction in fb.filter(fb["correction"].is_not_null())["correction"]:
            st.caption("Correction")
            st.text(correction)

    st.subheader("Reruns")
    reruns = cache.query(explorer.reruns_of, event_id)
    if reruns.is_empty():
        st.caption("Not rerun yet: reopen it in the playground to try another model or prompt.")
    else:
        picked = st.dataframe(
            reruns,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="events_reruns",
        )
        if picked.selection.rows:
            st.query_params["event"] = reruns["event_id"][picked.selection.rows[0]]
            st.rerun()

    if f["raw"] and st.toggle("Show the raw record", key="events_raw"):
        st.json(load_json(f["raw"]), expanded=False)


def _link_filter() -> EventFilter:
    """The list's filter this event was opened from (the sidebar's plus this page's URL keys)."""
    url = url_part(nav.PAGE_FILTER_KEYS)
    try:
        return from_query({**current_filter().to_query(), **url})
    except FilterError:
        return current_filter()


def _seed(url: dict[str, list[str]], kinds: list[str]) -> None:
    try:
        flt = from_query({k: v for k, v in url.items() if k != "page"})
    except FilterError as exc:
        st.warning(f"Ignored a filter in the link: {md_escape(exc)}")
        flt = from_query({})
    s = st.session_state
    s["events_status"] = flt.status or _ANY
    s["events_feedback"] = flt.feedback or _ANY
    s["events_text"] = flt.text or ""
    s["events_cluster"] = flt.cluster_id
    s["events_user"] = flt.user_id or ""
    s["events_kind"] = list(flt.kinds) if "kind" in url else ["llm"]
    s["events_rerun_of"] = flt.rerun_of or ""
    s["events_reruns"] = flt.reruns
    s["events_dataset"] = flt.dataset or _ANY
    try:
        s["events_page"] = max(1, int(url.get("page", ["1"])[0]))
    except ValueError:
        s["events_page"] = 1


st.title("Events")
event_param = st.query_params.get("event")
if event_param:
    _detail(event_param)
    st.stop()

url = url_part(KEYS)
kinds = cache.query(explorer.kinds_present)
if should_seed("events", KEYS, _WIDGETS):
    _seed(url, kinds)

c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
status = c1.selectbox("Status", [_ANY, *STATUS_CHOICES], key="events_status")
feedback = c2.selectbox(
    "Feedback",
    [_ANY, *FEEDBACK_CHOICES, "none"],
    key="events_feedback",
    help="'negative' = thumbs down, regenerated or heavily edited; 'none' = no feedback at all",
)
text = c3.text_input(
    "Search input and output text", key="events_text", placeholder="case-insensitive substring"
)
kind = c4.multiselect(
    "Kind",
    list(dict.fromkeys([*kinds, *st.session_state["events_kind"]])),
    key="events_kind",
    placeholder="llm",
)
d1, d2, d3, d4, d5 = st.columns([1, 2, 2, 1, 2])
cluster = d1.number_input(
    "Cluster",
    min_value=-1,
    step=1,
    value=None,
    key="events_cluster",
    help="from `reviewdeck analyze`",
)
user = d2.text_input("User id", key="events_user")
rerun_of = d3.text_input("Reruns of event", key="events_rerun_of")
reruns = d4.selectbox(
    "Playground reruns",
    RERUN_CHOICES,
    key="events_reruns",
    help="Reruns are saved as events linked to their original; left out of the list unless "
    "included here (or looking at the reruns of one event).",
)
datasets = cache.query(explorer.dataset_names)
dataset = d5.selectbox(
    "Dataset",
    list(dict.fromkeys([_ANY, *datasets, st.session_state.get("events_dataset", _ANY)])),
    key="events_dataset",
    help="Only the events of a dataset (a named, frozen set: the Datasets page).",
)

flt = current_filter().with_(
    status=None if status == _ANY else status,
    feedback=None if feedback == _ANY else feedback,
    text=text.strip() or None,
    cluster_id=None if cluster is None else int(cluster),
    user_id=user.strip() or None,
    kinds=tuple(kind) or ("llm",),
    rerun_of=rerun_of.strip() or None,
    reruns=reruns,
    dataset=None if dataset == _ANY else dataset,
)
# A new filter starts again at page 1 (set before the page widget is drawn).
if st.session_state.get("events_last_filter", flt) != flt:
    st.session_state["events_page"] = 1
st.session_state["events_last_filter"] = flt

total = cache.query(explorer.count_events, flt)
pages = max(1, -(-total // explorer.PAGE_SIZE))
st.session_state["events_page"] = min(st.session_state["events_page"], pages)
p1, p2 = st.columns([1, 4])
page_no = p1.number_input("Page", min_value=1, max_value=pages, step=1, key="events_page")
p2.caption(f"{total:,} events match · page {page_no} of {pages:,} · newest first")
if total:
    r1, r2 = st.columns(2)
    with r1:
        queue_links.link_to_queue("filter", flt=flt, text="Review a sample of these events")
    with r2:
        dataset_links.link_to_dataset("filter", flt=flt, text="Save these events as a dataset")

wanted = {k: v for k, v in flt.to_query().items() if k in KEYS}
if page_no > 1:
    wanted["page"] = [str(page_no)]
sync_url("events", KEYS, wanted)

if total == 0:
    st.info(
        "No events match these filters. Clear a filter here or in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

rows = cache.query(explorer.page_of_events, flt, (page_no - 1) * explorer.PAGE_SIZE)
picked = st.dataframe(
    rows,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="events_table",
    column_config={
        "ts": st.column_config.DatetimeColumn("time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "cost_usd": st.column_config.NumberColumn("cost", format="$%.4f"),
        "latency_ms": st.column_config.NumberColumn("latency (ms)", format="%.0f"),
    },
)
st.caption("Select a row to open the event.")
if picked.selection.rows:
    st.query_params["event"] = rows["event_id"][picked.selection.rows[0]]
    st.rerun()

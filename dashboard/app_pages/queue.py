"""Review queue: people label a sample of events one at a time, and the labels become evidence.

Open it bare to pick a queue, or from a "Review a sample" link (dashboard/queue_links.py) to make
one from that page's filter, cluster, segment, new topic or rerun batch. Each reviewer is the
signed-in user where login is configured, else the name they type (kept in the URL). Review is
blind: evaluator verdicts and other reviewers' labels on an item show only after answering.
Keyboard: P pass, F fail (1-9 for a label rubric's choices), S skip, N next. Logged text is shown
as text only (dashboard/conversation.py).
"""

import streamlit as st

from dashboard import cache, dataset_links, nav, queue_links
from dashboard.conversation import render_messages
from dashboard.filters_ui import current_filter, url_part
from dashboard.queries import explorer
from dashboard.queries import queue as q
from dashboard.safe_text import md_escape
from ingest.errors import ReviewdeckError
from models.filters import from_query
from models.queue import build, store
from models.queue.sources import QueueSource

SECTIONS = ["Review", "New queue"]
KEYS = ("queue", "reviewer")


def _signed_in() -> str | None:
    try:
        if st.user.get("is_logged_in", False):
            return st.user.get("email") or st.user.get("name")
    except Exception:  # no auth configured: st.user has nothing to say
        return None
    return None


def reviewer() -> str:
    """Who is labelling: the signed-in user, else the name typed here (kept in the URL)."""
    user = _signed_in()
    if user:
        st.caption(f"Reviewing as {md_escape(user)}")
        return user
    if "queue_reviewer" not in st.session_state:
        st.session_state["queue_reviewer"] = st.query_params.get("reviewer", "")
    name = st.text_input(
        "Your name",
        key="queue_reviewer",
        placeholder="who is labelling (labels carry it)",
        help="Without a login, each reviewer types a name; two reviewers never get the same "
        "item twice, and an item that needs two reviewers waits for a second name.",
    ).strip()
    if name and st.query_params.get("reviewer") != name:
        st.query_params["reviewer"] = name
    return name


def _split(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))


def new_queue(author: str) -> None:
    try:
        source = queue_links.source_from_url()
    except ReviewdeckError as exc:
        st.warning(f"Ignored the source in the link: {md_escape(exc)}")
        source = None
    if source is None:
        flt = from_query({**current_filter().to_query(), **url_part(nav.PAGE_FILTER_KEYS)})
        source = QueueSource("filter", where=flt.to_query_string())
        st.caption("From the sidebar's filter. Other pages' **Review a sample** links fill in "
                   "their filter, cluster, segment, new topic or rerun batch.")
    st.markdown("**Source**")
    st.code(source.describe(), language=None, wrap_lines=True)
    evaluators = cache.query(q.evaluator_names)
    with st.form("queue_create"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Queue name", value=source.label or "", key="queue_new_name")
        rubric = c2.text_input(
            "Rubric (the feedback name labels get)",
            value=evaluators[0] if evaluators else "quality",
            key="queue_new_rubric",
            help="Use an evaluator's name to check that evaluator: its verdicts and these "
            "labels are then compared on the Evaluators page. Evaluators here: "
            + (", ".join(evaluators) or "none yet"),
        )
        c3, c4, c5, c6 = st.columns(4)
        n = c3.number_input("Sample N", 1, 10_000, value=50, key="queue_new_n")
        strata = ["(none)", "model", "cluster", *(f"verdict:{e}" for e in evaluators)]
        stratify = c4.selectbox("Stratify by", strata, key="queue_new_stratify",
                                help="Equal shares per stratum; verdict:X = half of X's fails, "
                                "half of its passes.")
        reviewers = c5.selectbox("Reviewers per item", [1, 2, 3], key="queue_new_reviewers",
                                 help="2 measures agreement between reviewers.")
        seed = c6.number_input("Seed", 0, 2**31, value=0, key="queue_new_seed")
        kind = st.radio("Answer", ["pass / fail", "labels"], horizontal=True,
                        key="queue_new_kind")
        labels = st.text_input("Labels (comma-separated, for a label rubric)",
                               key="queue_new_labels")
        tags = st.text_input("Failure tags (comma-separated)",
                             value=", ".join(store.DEFAULT_FAILURE_TAGS), key="queue_new_tags")
        instructions = st.text_area("Instructions for reviewers", key="queue_new_instructions")
        go = st.form_submit_button("Create queue", type="primary")
    if not go:
        return
    spec = build.QueueSpec(
        name=name or source.describe()[:80],
        source=source,
        rubric=rubric,
        rubric_kind="labels" if kind == "labels" else "pass_fail",
        labels=_split(labels),
        failure_tags=_split(tags),
        instructions=instructions.strip() or None,
        n=int(n),
        stratify_by=None if stratify == "(none)" else stratify,
        reviewers_per_item=int(reviewers),
        seed=int(seed),
        created_by=author or None,
    )
    try:
        made = cache.write(build.create_queue, spec)
    except ReviewdeckError as exc:
        st.error(md_escape(exc), icon=":material/error:")
        return
    for key in (*queue_links.FILTER_KEYS, *queue_links.LINK_KEYS):
        if key in st.query_params:
            del st.query_params[key]
    st.query_params["queue"] = str(made.queue_id)
    st.session_state["queue_goto_review"] = True  # set before the section widget, next run
    st.session_state["queue_made"] = (made.queue_id, made.n_items, made.n_candidates)
    st.rerun()


def _conversation(event_id: str) -> None:
    ev = cache.query(explorer.event_detail, event_id)
    if ev is None:
        st.warning("This item's event is no longer in the warehouse.")
        return
    f = ev.fields
    st.text(f"{f['ts']:%Y-%m-%d %H:%M} UTC · {f['model'] or 'no model'} · "
            f"prompt {f['prompt_name'] or '-'} {f['prompt_version'] or ''}".rstrip())
    st.markdown("**Conversation** — system prompt, history, retrieved context and tool calls")
    render_messages(f["input_messages"])
    st.markdown("**Answer**")
    if f["output_messages"]:
        render_messages(f["output_messages"])
    else:
        st.code(f["output_text"] or "(no answer logged)", language=None, wrap_lines=True)
    if f["status"] == "error":
        st.warning("This call failed:")
        st.code(f"{f['error_type'] or ''}: {f['error_message'] or ''}", language=None)


def _answer_buttons(qu: store.Queue, event_id: str, author: str, k: str) -> None:
    tags = st.multiselect("Failure tags", list(qu.failure_tags), key=f"{k}_tags")
    note = st.text_input("Note (optional)", key=f"{k}_note")
    with st.expander("Corrected answer (optional)"):
        corrected = st.text_area("The answer it should have given", key=f"{k}_correction",
                                 height=120)
    row = st.container(horizontal=True)
    answer = None
    for i, choice in enumerate(qu.choices):
        if qu.rubric_kind == "pass_fail":
            label, key, kind = ("Pass", "P", "primary") if choice == "pass" else (
                "Fail", "F", "secondary")
        else:
            label, key, kind = choice, str(i + 1) if i < 9 else None, "secondary"
        if row.button(label, key=f"{k}_answer_{i}", shortcut=key, type=kind):
            answer = choice
    if row.button("Skip", key=f"{k}_skip", shortcut="S", type="tertiary"):
        cache.write(store.record_skip, qu.queue_id, event_id, author)
        st.session_state.pop(f"queue_current_{qu.queue_id}_{author}", None)
        st.rerun()
    if answer is not None:
        cache.write(store.record_label, qu.queue_id, event_id, author, answer,
                    tags=tuple(tags), note=note or None, correction=corrected or None)
        st.rerun()


def _revealed(qu: store.Queue, event_id: str, author: str, mine: dict, k: str) -> None:
    st.success(f"Your answer: {md_escape(mine['label'])}"
               + (f" · tags: {md_escape(', '.join(mine['tags']))}" if mine["tags"] else ""))
    hidden = cache.query(q.hidden_verdicts, qu.queue_id, event_id, author)
    st.markdown("**Verdicts hidden until you answered**")
    if hidden.is_empty():
        st.caption("No evaluator or other reviewer has judged this item.")
    else:
        st.dataframe(hidden, hide_index=True, key=f"{k}_hidden")
    if st.button("Next", key=f"{k}_next", shortcut="N", type="primary",
                 icon=":material/arrow_forward:"):
        st.session_state.pop(f"queue_current_{qu.queue_id}_{author}", None)
        st.rerun()


def review(author: str) -> None:
    made = st.session_state.pop("queue_made", None)
    if made:
        st.success(f"Queue {made[0]} created: {made[1]} items sampled from {made[2]} events.")
    queues = cache.query(q.queues)
    if queues.is_empty():
        st.info("No review queue yet. Make one under **New queue**, with a **Review a sample** "
                "link on the Events page, or with `reviewdeck queue create`.",
                icon=":material/rate_review:")
        return
    ids = queues["queue_id"].to_list()
    try:
        wanted = int(st.query_params.get("queue", ids[0]))
    except ValueError:
        wanted = ids[0]
    names = dict(zip(ids, queues["name"].to_list(), strict=True))
    picked = st.selectbox("Queue", ids, index=ids.index(wanted) if wanted in ids else 0,
                          format_func=lambda i: f"{i} · {names[i]}", key=f"queue_pick_{wanted}")
    if st.query_params.get("queue") != str(picked):
        st.query_params["queue"] = str(picked)
    qu = cache.query(q.queue, picked)
    st.caption(f"Source: {md_escape(qu.source.describe())} · rubric **{md_escape(qu.rubric)}**"
               + (f" · stratified by {md_escape(qu.stratify_by)}" if qu.stratify_by else "")
               + f" · {qu.reviewers_per_item} reviewer(s) per item")
    dataset_links.link_to_dataset("queue", queue_id=qu.queue_id,
                                  text="Save this queue's items as a dataset")
    if not author:
        st.info("Type your name above to start reviewing.", icon=":material/person:")
        return
    p = cache.query(q.progress, qu.queue_id, author)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Items done", f"{p.done} / {p.items}",
              help="Items with as many reviewers as they need.")
    m2.metric("Your labels", p.mine)
    m3.metric("Others' labels", p.others)
    m4.metric("Left for you", p.left_for_me, help=f"{p.skipped_by_me} skipped by you")
    st.progress(p.done / p.items if p.items else 0.0)
    if qu.instructions:
        st.info(md_escape(qu.instructions), icon=":material/assignment:")

    state = f"queue_current_{qu.queue_id}_{author}"
    current = st.session_state.get(state) or cache.query(q.next_item, qu.queue_id, author)
    if current is None:
        st.success("Nothing left for you in this queue. Thank you!")
        return
    st.session_state[state] = current
    k = f"queue_{qu.queue_id}_{abs(hash(current)) % 10**8}"
    with st.container(border=True):
        st.caption("Item")
        st.code(current, language=None)
        _conversation(current)
    mine = cache.query(q.my_label, qu.queue_id, current, author)
    st.markdown(f"**{md_escape(qu.rubric)}**: "
                + ("pass or fail? (P / F, S to skip)" if qu.rubric_kind == "pass_fail"
                   else "which label? (1-9, S to skip)"))
    if mine is None:
        _answer_buttons(qu, current, author, k)
    else:
        _revealed(qu, current, author, mine, k)


st.title("Review queue")
who = reviewer()
link = st.query_params.get("source")
if link and link != st.session_state.get("queue_link_seen"):
    st.session_state["queue_section"] = "New queue"  # a Review a sample link: make the queue
st.session_state["queue_link_seen"] = link
if st.session_state.pop("queue_goto_review", False) or not st.session_state.get("queue_section"):
    st.session_state["queue_section"] = "Review"
section = st.segmented_control("Section", SECTIONS, key="queue_section",
                               label_visibility="collapsed")
if section == "New queue":
    new_queue(who)
else:
    review(who)

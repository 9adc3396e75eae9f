"""Playground: reopen a logged event with its exact request, rerun it, compare, keep the evidence.

Opened with `?event=<event_id>` (dashboard.nav.open_playground, from any page). The request is
editable (endpoint, model, parameters, every message); runs stream; each run is saved as a rerun
event linked to the original, and verdicts / corrections are saved as feedback. The batch section
reruns the explorer's current filter. Logged and generated text is shown with st.text / st.code
only. Endpoint keys are never shown: only endpoint names and base URLs.
"""

import difflib
import json
import random
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from dashboard import cache, nav, queue_links
from dashboard.filters_ui import current_filter, should_seed, sync_url, url_part
from dashboard.queries import playground as q
from dashboard.safe_text import md_escape
from ingest.errors import ReviewdeckError
from models.filters import FEEDBACK_CHOICES, EventFilter, FilterError, from_query
from models.rerun import runner as rr
from models.rerun import store
from models.rerun.capabilities import adapt_request
from models.rerun.endpoints import HOW_TO_CONFIGURE, list_endpoints
from models.rerun.judge import DEFAULT_RUBRIC

ROLES = ["system", "developer", "user", "assistant", "tool"]
NO_EVENT_HELP = (
    "Open an event here with **Reopen in playground** on the Events page (or any drill-down), "
    "or paste an event id below."
)


def _safe_url(url: str | None) -> str:
    """A base URL without any user:password part, for display."""
    if not url:
        return "api.openai.com"
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _text(content: object) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _money(x: float | None) -> str:
    return "–" if x is None else f"${x:.5f}"


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} ms"


def _error_text(result: object) -> str:
    """A failed call as the endpoint described it: `error_type: message`."""
    etype = getattr(result, "error_type", None) or "error"
    message = getattr(result, "error_message", None) or "(no message)"
    return f"{etype}: {message}"


def _diff(before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "original", "rerun", lineterm="", n=2
    )
    return "\n".join(lines) or "(no difference)"


st.title("Playground")

try:
    endpoints = list_endpoints()
except ReviewdeckError as exc:
    st.error(str(exc), icon=":material/error:")
    endpoints = {}
if not endpoints:
    st.warning(
        "No model endpoint is configured, so runs are disabled. You can still open and "
        "edit the event. To configure one:",
        icon=":material/key_off:",
    )
    st.code(HOW_TO_CONFIGURE, language=None)

if st.session_state.pop("playground_goto_single", False):
    st.session_state["playground_section"] = "Rerun one event"
section = st.segmented_control(
    "Section",
    ["Rerun one event", "Batch rerun"],
    default="Rerun one event",
    key="playground_section",
    label_visibility="collapsed",
)


def endpoint_and_model(prefix: str, default_model: str | None) -> tuple[str | None, str]:
    names = list(endpoints)
    left, right = st.columns(2)
    name = left.selectbox(
        "Endpoint",
        names or ["(none configured)"],
        key=f"{prefix}_endpoint",
        format_func=lambda n: f"{n} — {_safe_url(endpoints[n].base_url)}" if n in endpoints else n,
        disabled=not names,
    )
    offered = list(endpoints[name].models) if name in endpoints else []
    model = right.text_input(
        "Model",
        value=default_model or (offered[0] if offered else "gpt-4o-mini"),
        key=f"{prefix}_model",
        help=("Models offered by this endpoint: " + ", ".join(offered)) if offered else None,
    )
    return (name if name in endpoints else None), model.strip()


def single_event() -> None:
    event_id = st.query_params.get("event")
    if not event_id:
        st.info(NO_EVENT_HELP, icon=":material/science:")
        typed = st.text_input("Event id", key="playground_event_input")
        if typed.strip():
            st.query_params["event"] = typed.strip()
            st.rerun()
        return
    original = cache.query(q.event_for_playground, event_id)
    if original is None:
        st.warning("No event with this id in the warehouse:", icon=":material/search_off:")
        st.code(event_id, language=None)
        return
    st.caption("Reopened event")
    st.code(event_id, language=None)
    if original.rerun_of:
        st.info("This event is itself a rerun; its original is:")
        st.code(original.rerun_of, language=None)
    if not original.messages:
        st.warning("This event has no logged request messages, so it cannot be replayed.")
        return
    k = f"playground_{abs(hash(event_id)) % 10**8}"  # widget keys per event: edits reset

    st.subheader("Request")
    c1, c2, c3 = st.columns(3)
    c1.metric("Logged model", original.model or original.model_requested or "–")
    c2.metric("Logged cost", _money(original.cost_usd))
    c3.metric("Logged latency", _ms(original.latency_ms))
    ep_name, model = endpoint_and_model(k, original.model_requested or original.model)
    params = rr.replay_params(original.params)
    p1, p2, p3 = st.columns(3)
    temperature = p1.number_input(
        "Temperature",
        0.0,
        2.0,
        value=params.pop("temperature", None),
        step=0.1,
        key=f"{k}_temperature",
        placeholder="model default",
    )
    limit = params.pop("max_tokens", None) or params.pop("max_completion_tokens", None)
    max_tokens = p2.number_input(
        "Max output tokens",
        1,
        200_000,
        value=limit,
        key=f"{k}_max_tokens",
        placeholder="model default",
    )
    samples = p3.number_input(
        "Samples (N runs)",
        1,
        10,
        value=1,
        key=f"{k}_samples",
        help="Run the same request N times to see how much answers vary.",
    )
    other = st.text_area(
        "Other parameters (JSON)", json.dumps(params, indent=2), key=f"{k}_params", height=100
    )

    st.markdown(
        "**Messages** — system prompt, history, retrieved context, tool calls and "
        "results, exactly as logged. Edit any of them."
    )
    edited: list[dict] = []
    for i, m in enumerate(original.messages):
        role = m.get("role", "user")
        with st.container(border=True):
            r1, r2 = st.columns([1, 5])
            new_role = r1.selectbox(
                "Role", ROLES, index=ROLES.index(role) if role in ROLES else 2, key=f"{k}_role_{i}"
            )
            keep = r1.checkbox("Send", value=True, key=f"{k}_keep_{i}")
            content = r2.text_area(
                f"Message {i + 1}",
                _text(m.get("content")),
                key=f"{k}_content_{i}",
                height=68 if role != "system" else 120,
            )
            msg: dict = {"role": new_role, "content": content}
            if m.get("tool_calls"):
                calls = r2.text_area(
                    "Tool calls (JSON)",
                    json.dumps(m["tool_calls"], indent=2),
                    key=f"{k}_tools_{i}",
                    height=100,
                )
                try:
                    msg["tool_calls"] = json.loads(calls)
                except json.JSONDecodeError:
                    st.error(f"Tool calls of message {i + 1} are not valid JSON.")
                    return
                msg["content"] = content or None
            for extra in ("tool_call_id", "name"):
                if m.get(extra):
                    msg[extra] = m[extra]
            if keep:
                edited.append(msg)
    with st.expander("Logged answer", expanded=False):
        st.code(original.output_text or "(no output logged)", language=None, wrap_lines=True)
    try:
        extra_params = json.loads(other or "{}")
    except json.JSONDecodeError:
        st.error("Other parameters are not valid JSON.")
        return
    sent_params = {**extra_params}
    if temperature is not None:
        sent_params["temperature"] = temperature
    if max_tokens is not None:
        sent_params["max_tokens"] = int(max_tokens)
    if not model:
        st.warning("Type a model name to run.")
        return
    changes = adapt_request(model, edited, sent_params).changes
    if changes:
        st.info(
            "Adapted for " + model + ":\n\n" + "\n".join(f"- {c}" for c in changes),
            icon=":material/tune:",
        )

    if st.button(
        "Run",
        type="primary",
        icon=":material/play_arrow:",
        key=f"{k}_run",
        disabled=ep_name is None,
    ):
        cols = st.columns(min(int(samples), 3))
        boxes = [cols[i % len(cols)].empty() for i in range(int(samples))]
        streamed: dict[int, str] = {}

        def show(i: int, piece: str) -> None:
            streamed[i] = streamed.get(i, "") + piece
            boxes[i].text(streamed[i])

        try:
            runs = rr.rerun_event(
                cache.db_path(),
                event_id,
                endpoint=endpoints[ep_name],
                model=model,
                messages=edited,
                params=sent_params,
                samples=int(samples),
                on_delta=show,
            )
        except ReviewdeckError as exc:
            st.error(str(exc))
            return
        failed = [r for r in runs if r.result.status != "ok"]
        if failed:
            st.error(
                f"{len(failed)} of {len(runs)} runs failed; the endpoint said (saved on the "
                "rerun event):",
                icon=":material/error:",
            )
            # The endpoint's words as text: they may quote the request back.
            for message in dict.fromkeys(_error_text(r.result) for r in failed):
                st.code(message, language=None, wrap_lines=True)
        st.session_state[f"{k}_last"] = [r.rerun_event_id for r in runs]
        # The comparison below shows this run, not whichever rerun was picked before: the
        # picker's state is set before it is drawn in this script run.
        st.session_state[f"{k}_pick"] = runs[0].rerun_event_id

    reruns = cache.query(q.reruns_of, event_id)
    if reruns.is_empty():
        return
    st.subheader("Original vs reruns")
    latest = st.session_state.get(f"{k}_last") or []
    options = reruns["event_id"].to_list()
    if st.session_state.get(f"{k}_pick") not in options:
        st.session_state[f"{k}_pick"] = options[0]  # the newest
    pick = st.selectbox(
        "Rerun",
        options,
        key=f"{k}_pick",
        format_func=lambda rid: _label(_row(reruns, rid)),
    )
    row = _row(reruns, pick)
    if len(latest) > 1:
        st.markdown(f"**The last run's {len(latest)} samples** (same request)")
        cols = st.columns(min(len(latest), 3))
        for i, rid in enumerate(r for r in latest if r in options):
            sample = _row(reruns, rid)
            with cols[i % len(cols)]:
                st.caption(
                    f"sample {i + 1} · {_ms(sample['latency_ms'])} · "
                    f"{sample['tokens_out'] or 0} tokens · {sample['status']}"
                )
                st.code(
                    sample["output_text"] or sample["error_message"] or "",
                    language=None,
                    wrap_lines=True,
                )
    compare(original, row, k)
    with st.expander(f"All {len(reruns)} reruns of this event"):
        st.dataframe(
            reruns.select(
                "event_id",
                "ts",
                "model_requested",
                "status",
                "verdict",
                "tokens_out",
                "cost_usd",
                "latency_ms",
                "endpoint",
                "batch_id",
            ),
            hide_index=True,
        )


def _row(frame, rerun_id: str) -> dict:
    return frame.row(frame["event_id"].to_list().index(rerun_id), named=True)


def _label(row: dict) -> str:
    return f"{row['ts']:%b %d %H:%M:%S} · {row['model_requested']} · {row['status']}" + (
        f" · {row['verdict']}" if row["verdict"] else ""
    )


def compare(original: store.Original, row: dict, k: str) -> None:
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Latency",
        _ms(row["latency_ms"]),
        delta=None
        if row["latency_ms"] is None or original.latency_ms is None
        else f"{row['latency_ms'] - original.latency_ms:,.0f} ms",
        delta_color="inverse",
    )
    m2.metric("Tokens in / out", f"{row['tokens_in'] or 0:,} / {row['tokens_out'] or 0:,}")
    m3.metric(
        "Cost",
        _money(row["cost_usd"]),
        delta=None
        if row["cost_usd"] is None or original.cost_usd is None
        else f"{row['cost_usd'] - original.cost_usd:+.5f}",
        delta_color="inverse",
    )
    if row["adaptations"]:
        st.caption("Sent with changes: " + "; ".join(row["adaptations"]))
    if row["status"] != "ok":
        st.error("The endpoint returned an error:", icon=":material/error:")
        st.code(
            f"{row['error_type'] or 'error'}: {row['error_message'] or '(no message)'}",
            language=None,
            wrap_lines=True,
        )
        return
    blind = st.toggle("Blind A/B (hide which is which)", key=f"{k}_blind")
    before, after = original.output_text or "", row["output_text"] or ""
    pair = [("Original", before), (f"Rerun ({row['model_requested']})", after)]
    if blind:
        # A fixed shuffle per rerun, so the order does not change on every click.
        if random.Random(row["event_id"]).random() < 0.5:
            pair.reverse()
        pair = [("A", pair[0][1]), ("B", pair[1][1])]
    left, right = st.columns(2)
    for col, (title, text) in zip((left, right), pair, strict=True):
        col.markdown(f"**{title}**")
        col.code(text, language=None, wrap_lines=True)
    if not blind:
        st.markdown("**Diff** (original → rerun)")
        st.code(_diff(before, after), language="diff", wrap_lines=True)

    with st.form(f"{k}_verdict_{row['event_id']}"):
        st.markdown("**Verdict on this rerun**")
        if blind:
            choice = st.radio("Which is better?", ["A", "Same", "B"], horizontal=True, index=None)
            rerun_is_a = pair[0][1] == after and pair[0][1] != before
            verdict = (
                None
                if choice is None
                else {
                    "Same": "same",
                    "A": "better" if rerun_is_a else "worse",
                    "B": "worse" if rerun_is_a else "better",
                }[choice]
            )
        else:
            # No default: a verdict is only recorded when the reviewer picks one.
            verdict = st.radio(
                "The rerun is", ["better", "same", "worse"], horizontal=True, index=None
            )
        note = st.text_input("Note (optional)")
        author = st.text_input("Your name (optional)", key=f"{k}_author_v")
        submitted = st.form_submit_button("Save verdict")
        if submitted and verdict is None:
            st.warning("Pick a verdict first.")
        elif submitted:
            cache.write(
                store.record_verdict, row["event_id"], verdict, note or None, author or None
            )
            st.success(f"Saved: the rerun is {verdict}" + (" (blind A/B)" if blind else ""))
    with st.form(f"{k}_correction"):
        st.markdown(
            "**Correction** — edit the original answer into the one it should have been (saved "
            "as correction feedback on the original event; copy from the rerun above if it is "
            "right)"
        )
        # Starts from the original's answer, never the model's: a correction is a person's
        # text, so saving it unchanged stores nothing.
        corrected = st.text_area("Corrected answer", before, height=150, key=f"{k}_corrected")
        author = st.text_input("Your name (optional)", key=f"{k}_author_c")
        if st.form_submit_button("Save correction"):
            if not corrected.strip() or corrected.strip() == before.strip():
                st.warning("Nothing changed from the original answer: no correction saved.")
            else:
                cache.write(store.record_correction, original.event_id, corrected, author or None)
                st.success("Correction saved on the original event.")


def carried_filter() -> tuple[EventFilter, bool]:
    """The sidebar's filter plus the page filter a link carried (nav.playground_params), and
    whether a link carried one."""
    url = url_part(nav.PAGE_FILTER_KEYS)
    try:
        carried = from_query({**current_filter().to_query(), **url})
    except FilterError as exc:
        st.warning(f"Ignored a filter in the link: {md_escape(exc)}")
        return current_filter(), False
    return carried, bool(url)


def batch() -> None:
    flt, from_link = carried_filter()
    st.caption(
        "Reruns the events matching the filter you came from (the sidebar's, plus the Events "
        "page's when you reopened an event from there) and the feedback filter below "
        "(only original events with logged messages). For very large batches use "
        "`reviewdeck rerun` (same filter fields, resumable)."
    )
    feedback_keys = ["(any)", *FEEDBACK_CHOICES, "none"]
    if should_seed("playground", nav.PAGE_FILTER_KEYS, ["playground_batch_feedback"]):
        # A link's filter is taken as it is; opened bare, the page offers the failures.
        st.session_state["playground_batch_feedback"] = flt.feedback or (
            "(any)" if from_link else "negative"
        )
    fb = st.selectbox("Feedback", feedback_keys, key="playground_batch_feedback")
    flt = flt.with_(feedback=None if fb == "(any)" else fb)
    # The URL follows, so a reload or a pasted link reruns the same set.
    wanted = {k: v for k, v in flt.to_query().items() if k in nav.PAGE_FILTER_KEYS}
    sync_url("playground", nav.PAGE_FILTER_KEYS, {"reruns": [flt.reruns], **wanted})
    st.code("--where '" + flt.to_query_string() + "'", language=None)
    ep_name, model = endpoint_and_model("playground_batch", None)
    c1, c2, c3 = st.columns(3)
    sample = c1.number_input(
        "Sample N (0 = all)", 0, 100_000, value=50, step=10, key="playground_batch_sample"
    )
    cap = c2.number_input(
        "Spend cap (USD)", 0.0, 10_000.0, value=1.0, step=0.5, key="playground_batch_cap"
    )
    judge_model = (
        c3.text_input("Judge model (empty = no judge)", "", key="playground_batch_judge").strip()
        or None
    )
    rubric = st.text_area(
        "Judge rubric", DEFAULT_RUBRIC, key="playground_batch_rubric", disabled=judge_model is None
    )
    if not model:
        return
    est = cache.query(q.estimate, flt, model, judge_model, int(sample) or None, 0)
    uncapped = False
    if est.n_events == 0:
        st.info("No events match; widen the filters.", icon=":material/filter_alt_off:")
    else:
        st.metric("Events to rerun", f"{est.n_events:,}")
        if est.estimate_usd is None:
            st.warning(
                f"No price known for {', '.join(est.unpriced)}: the cost cannot be "
                "estimated and a spend cap cannot be enforced. Add a price row via "
                "REVIEWDECK_PRICES (see ingest/prices.csv), or run without a cap."
            )
            uncapped = st.checkbox("Run without a spend cap", key="playground_batch_uncapped")
        else:
            st.metric("Estimated cost", _money(est.estimate_usd))
            if est.estimate_usd > cap:
                st.warning(
                    f"The estimate exceeds the cap: the batch will stop after about "
                    f"{int(est.n_events * cap / est.estimate_usd)} events."
                )
    start = st.button(
        "Start batch rerun",
        type="primary",
        key="playground_batch_start",
        disabled=ep_name is None
        or est.n_events == 0
        or (est.estimate_usd is None and not uncapped),
    )
    if start:
        opts = rr.BatchOptions(
            model=model,
            where_text=flt.to_query_string(),
            sample_n=int(sample) or None,
            max_cost_usd=None if uncapped else float(cap),
            judge_model=judge_model,
            rubric=rubric,
        )
        bar = st.progress(0.0, text="planning")
        try:
            plan = rr.plan_batch(cache.db_path(), flt, ep_name, opts)

            def show(p: rr.Progress) -> None:
                frac = (p.done + p.failed) / p.total if p.total else 1.0
                bar.progress(
                    min(frac, 1.0),
                    text=f"{p.done + p.failed} / {p.total} · {_money(p.spent_usd)} spent",
                )

            result = rr.run_batch(
                cache.db_path(), plan, opts, endpoint=endpoints[ep_name], on_progress=show
            )
        except ReviewdeckError as exc:
            st.error(str(exc))
            return
        st.session_state["playground_batch_id"] = plan.batch_id
        msg = (
            f"{result.status}: {result.done} done, {result.errors} API errors, "
            f"{result.failed} failed after retries, {result.skipped} not started, "
            f"{_money(result.spent_usd)} spent in {result.elapsed_s:.1f} s"
        )
        (st.success if result.status == "done" else st.warning)(msg)

    report_section()


def report_section() -> None:
    runs = cache.query(q.batches)
    if runs.is_empty():
        return
    st.subheader("Comparison report")
    ids = runs["batch_id"].to_list()
    wanted = st.session_state.get("playground_batch_id")
    batch_id = st.selectbox(
        "Batch",
        ids,
        index=ids.index(wanted) if wanted in ids else 0,
        key="playground_report_batch",
        format_func=lambda b: (
            lambda r: (
                f"{r['created_at']:%b %d %H:%M} · {r['model']} · "
                f"{r['n_items']} events · {r['status']}"
            )
        )(_row_b(runs, b)),
    )
    rep = cache.query(q.batch_report, batch_id)
    if rep is None:
        return
    queue_links.link_to_queue(
        "rerun_batch", batch_id=batch_id, label=f"rerun batch {batch_id}",
        text="Review a sample of this batch's answers",
    )
    items = ", ".join(f"{v} {k}" for k, v in sorted(rep.item_status.items()))
    st.caption(
        f"filter: {rep.batch.where_text or '(none)'} · endpoint {rep.batch.endpoint} · "
        f"items: {items} · spent {_money(rep.batch.spent_usd)}"
        + (
            f" of cap {_money(rep.batch.max_cost_usd)}"
            if rep.batch.max_cost_usd is not None
            else ""
        )
    )
    j = rep.judge
    if j is None:
        st.info("No judge verdicts in this batch (run it with a judge model).")
    else:
        pct = int(j.confidence * 100)
        cols = st.columns(5)
        for col, (name, s) in zip(
            cols, (("Win", j.win), ("Tie", j.tie), ("Loss", j.loss)), strict=False
        ):
            if j.n == 0:  # no readable pair: a count, no share and no interval to show
                col.metric(f"{name} (rerun)", "0", help="No pair was judged readably.")
                col.caption("n = 0 readable pairs")
                continue
            col.metric(
                f"{name} (rerun)",
                f"{s.count} · {s.share:.0%}",
                help=f"{pct}% Wilson interval {s.low:.0%}–{s.high:.0%}, n = {j.n} pairs",
            )
            col.caption(f"{pct}% CI {s.low:.0%}–{s.high:.0%}")
        cols[3].metric(
            "Unreadable",
            f"{rep.unreadable}",
            help="Judgements whose reply had no 1 / 2 / tie, or whose judge call failed. Their "
            "pairs are left out of win / tie / loss.",
        )
        cols[3].caption(f"judgements · {j.unreadable_pairs} pairs left out")
        if j.p_value is not None:
            cols[4].metric(
                "Wins among decisive",
                f"{j.win_rate_decisive:.0%}",
                help="Exact sign test on wins vs losses; ties excluded.",
            )
            cols[4].caption(
                f"{pct}% CI {j.win_rate_low:.0%}–{j.win_rate_high:.0%} · p={j.p_value:.3g}"
            )
        st.caption(
            f"Judge {rep.batch.judge_model}: each pair judged twice with the order "
            f"swapped, ties allowed; n = {j.n} pairs judged readably in both orders."
        )
        if rep.unreadable:
            st.warning(
                f"{rep.unreadable} judgements were unreadable (a reply with no 1 / 2 / tie, or "
                f"a failed judge call): {j.unreadable_pairs} pairs are left out of win / tie / "
                "loss and their intervals. Check the judge model and rubric."
            )
    d1, d2, d3 = st.columns(3)
    d1.metric(
        "Cost of the reruns",
        _money(rep.cost_rerun_usd),
        help=f"The same events cost {_money(rep.cost_original_usd)} originally.",
        delta=None
        if rep.cost_rerun_usd is None or rep.cost_original_usd is None
        else f"{rep.cost_rerun_usd - rep.cost_original_usd:+.4f}",
        delta_color="inverse",
    )
    d2.metric(
        "Median latency, rerun",
        _ms(rep.latency_median_rerun_ms),
        delta=None
        if rep.latency_median_rerun_ms is None or rep.latency_median_original_ms is None
        else f"{rep.latency_median_rerun_ms - rep.latency_median_original_ms:+,.0f} ms",
        delta_color="inverse",
    )
    d3.metric(
        "Reviewer verdicts",
        sum(rep.verdicts.values()),
        help="The latest verdict on each rerun of this batch.",
    )
    st.caption(
        "Reviewer verdicts: "
        + ", ".join(
            [f"{k} {v}" for k, v in sorted(rep.verdicts.items())] + [f"no verdict {rep.no_verdict}"]
        )
    )
    if not rep.pairs.is_empty():
        st.dataframe(
            rep.pairs.select(
                "event_id",
                "status",
                "judge_outcome",
                "reviewer_verdicts",
                "original_output",
                "rerun_output",
                "judge_rationale",
                "original_cost_usd",
                "rerun_cost_usd",
                "original_latency_ms",
                "rerun_latency_ms",
                "error_type",
            ),
            hide_index=True,
        )
        pick = st.selectbox(
            "Open a pair in the playground",
            rep.pairs["event_id"].to_list(),
            index=None,
            key="playground_report_open",
        )
        if pick:
            st.query_params["event"] = pick
            st.session_state["playground_goto_single"] = True
            st.rerun()


def _row_b(frame, batch_id: str) -> dict:
    return frame.row(frame["batch_id"].to_list().index(batch_id), named=True)


if section == "Batch rerun":
    batch()
else:
    single_event()

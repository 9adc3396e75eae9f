"""Evaluators: for each evaluator (latest version by default), its fail rate per week, cost,
errors and unparsed answers, agreement with human reviewers over time and by segment, the
judge-corrected rate beside the raw and humans-only ones, and the disagreements to open.

Every number names the evaluator, its version and the sample it rests on (docs/judge-trust.md).
"""

import polars as pl
import streamlit as st

from dashboard import cache, charts_evaluators, nav
from dashboard.queries import evaluators as q
from dashboard.safe_text import md_escape
from models.filters import EventFilter
from models.judge_trust.agreement import MIN_PAIRS
from models.judge_trust.summary import version_label


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _kappa(a) -> str:
    if a.kappa is None:
        return "n/a"
    if a.kappa_lo is None:
        return f"{a.kappa:.2f}"
    return f"{a.kappa:.2f} (95% {a.kappa_lo:.2f} to {a.kappa_hi:.2f})"


def _agreement_rows(groups, label: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            label: [k for k, _ in groups],
            "n": [a.n for _, a in groups],
            "agreement": [a.rate for _, a in groups],
            "kappa": [a.kappa for _, a in groups],
            "kappa_lo": [a.kappa_lo for _, a in groups],
            "kappa_hi": [a.kappa_hi for _, a in groups],
        },
        schema={label: pl.Utf8, "n": pl.Int64, "agreement": pl.Float64, "kappa": pl.Float64,
                "kappa_lo": pl.Float64, "kappa_hi": pl.Float64},
    )


_AGREE_COLS = {
    "n": st.column_config.NumberColumn("n (paired events)", format="localized"),
    "agreement": st.column_config.NumberColumn("agreement", format="percent"),
    "kappa": st.column_config.NumberColumn("Cohen's κ", format="%.2f"),
    "kappa_lo": st.column_config.NumberColumn("κ 95% low", format="%.2f"),
    "kappa_hi": st.column_config.NumberColumn("κ 95% high", format="%.2f"),
}

st.title("Evaluators")

versions = cache.query(q.evaluator_versions)
if versions.height == 0:
    st.info(
        "No evaluator has scored any event yet. Run `reviewdeck evaluate` to run the built-in "
        "checks (empty or truncated answers, refusals, invalid JSON, bad tool calls, wrong "
        "language) over your events, or add LLM judges in `evaluators.toml`; then reopen this "
        "page. To check a judge against people, label a sample with `reviewdeck queue`.",
        icon=":material/rule:",
    )
    st.stop()

# The evaluators people check come first (their trust is what this page is for), then the LLM
# judges, then the code checks; by name within each.
reviewed = set(cache.query(q.reviewed_rubrics))
judges = set(versions.filter(pl.col("source") == "llm_judge")["name"])
names = sorted(set(versions["name"]), key=lambda n: (n not in reviewed, n not in judges, n))
c1, c2 = st.columns(2)
name = c1.selectbox("Evaluator", names, key="evaluators_name")
mine = versions.filter(pl.col("name") == name)
options = mine["version"].to_list()
latest = mine.filter(pl.col("latest"))["version"][0]
version = c2.selectbox(
    "Version",
    options,
    index=options.index(latest),
    format_func=lambda v: f"{v} (latest)" if v == latest else v,
    key="evaluators_version",
)
t = cache.query(q.trust, name, version)
if t is None or t.judged == 0:
    st.info(
        f"{md_escape(version_label(name, version))} has no scored events left in the warehouse. "
        "Run `reviewdeck evaluate` to score events.",
        icon=":material/rule:",
    )
    st.stop()

who = md_escape(version_label(t.name, t.version))
st.caption(
    f"{who} · {t.judged:,} events scored · {t.overall.n:,} with a human label on the same rubric"
    + (f" · {t.tied} left out (reviewers tied)" if t.tied else "")
    + " · sidebar filters do not apply here"
)

fails = sum(w.fails for w in t.weeks)
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(
    "Fail rate (judge)" if t.kind == "score" else "Events scored",
    _pct(fails / t.judged) if t.kind == "score" else f"{t.judged:,}",
    help=f"{who}: {fails:,} fails of {t.judged:,} scored events",
)
cost = t.counts.get("cost_usd")
m2.metric("Cost", "n/a" if cost is None else f"${cost:,.4f}",
          help=f"{who}: what its judge calls cost (model {t.counts.get('judge_model') or 'n/a'})")
m3.metric("Errors", f"{t.counts['errors']:,}", help=f"{who}: events where the evaluator raised")
m4.metric("Unparsed", f"{t.counts['unparsed']:,}",
          help=f"{who}: judge answers that could not be read; never turned into a score")
m5.metric("Cohen's κ vs humans", "n/a" if t.overall.kappa is None else f"{t.overall.kappa:.2f}",
          help=f"{who}: κ on {t.overall.n} events with a human label; {_kappa(t.overall)}")

if t.kind == "score":
    st.subheader("Fail rate per week")
    st.caption(f"{who} · share of scored events it failed, with 95% Wilson intervals and n")
    weekly = pl.DataFrame(
        {
            "week": [w.week for w in t.weeks],
            "n": [w.n for w in t.weeks],
            "fails": [w.fails for w in t.weeks],
            "value": [w.rate for w in t.weeks],
            "lo": [w.lo for w in t.weeks],
            "hi": [w.hi for w in t.weeks],
        }
    )
    st.altair_chart(
        charts_evaluators.interval_chart(weekly, value_title="fail rate", fmt=".1%", min_n=30),
        width="stretch",
    )
    st.dataframe(
        weekly.rename({"value": "fail_rate"}),
        hide_index=True,
        key="evaluators_weekly",
        column_config={"fail_rate": st.column_config.NumberColumn("fail rate", format="percent"),
                       "lo": st.column_config.NumberColumn("95% low", format="percent"),
                       "hi": st.column_config.NumberColumn("95% high", format="percent")},
    )

st.subheader("Agreement with human reviewers")
if t.overall.n == 0:
    st.info(
        f"No human has labelled {who}'s rubric on the events it scored. Make a review queue "
        f"with rubric {md_escape(t.name)} (`reviewdeck queue create`, or the Review queue page) "
        "and label a random sample to measure how far to trust it.",
        icon=":material/group:",
    )
else:
    st.caption(
        f"{who} against the human label (the majority of an event's reviewers; ties left out) "
        f"on {t.overall.n:,} events. Agreement {_pct(t.overall.rate)}, κ {_kappa(t.overall)}."
        + ("" if t.overall.enough else f" Fewer than {MIN_PAIRS} pairs: too little to judge.")
    )
    cats = list(t.overall.categories)
    confusion = pl.DataFrame(
        {"judge says": cats, **{f"human: {c}": [row[j] for row in t.overall.matrix]
                                 for j, c in enumerate(cats)}}
    )
    st.dataframe(confusion, hide_index=True, key="evaluators_confusion")
    by_week = _agreement_rows(t.by_week, "week")
    st.markdown("**κ per week**")
    st.altair_chart(
        charts_evaluators.interval_chart(
            by_week.rename({"kappa": "value", "kappa_lo": "lo", "kappa_hi": "hi"}),
            value_title="Cohen's κ", fmt=".2f", min_n=MIN_PAIRS, y_domain=[-1, 1],
        ),
        width="stretch",
    )
    st.dataframe(by_week, hide_index=True, column_config=_AGREE_COLS, key="evaluators_kweek")
    s1, s2 = st.columns(2)
    with s1:
        st.markdown("**By model**")
        st.dataframe(_agreement_rows(t.by_model, "model"), hide_index=True,
                     column_config=_AGREE_COLS, key="evaluators_kmodel")
    with s2:
        st.markdown("**By cluster**")
        if t.by_cluster:
            st.dataframe(_agreement_rows(t.by_cluster, "cluster"), hide_index=True,
                         column_config=_AGREE_COLS, key="evaluators_kcluster")
        else:
            st.caption("No cluster analysis yet (`reviewdeck analyze`).")
r = t.reviewers
st.caption(
    f"Between reviewers on rubric {md_escape(t.name)}: "
    + (f"κ {_kappa(r)}, agreement {_pct(r.rate)} on {r.n} double-labelled events "
       "(the first two reviewers of each)." if r.n else
       "no event was labelled by two reviewers yet (set a queue to two reviewers per item).")
)

if t.kind == "score":
    st.subheader("Judge-corrected fail rate")
    c = t.corrected
    if c is None:
        if t.sampling == "selective":
            st.warning(md_escape(t.sampling_note), icon=":material/warning:")
        else:
            st.info(f"No human labels on {who}'s events yet: no corrected rate.",
                    icon=":material/group:")
    else:
        st.caption(
            f"{who} · fail rate estimated three ways, 95% intervals. Corrected = prediction-"
            f"powered inference (PPI): the judge's {c.judged:,} verdicts, with its error "
            f"measured on the {c.labelled:,} human-labelled events (λ = {c.lam:.2f})."
        )
        k1, k2, k3 = st.columns(3)
        k1.metric("Raw judge", _pct(c.judge_rate),
                  help=f"{who}: {c.judged:,} events; 95% {_pct(c.judge_lo)}–{_pct(c.judge_hi)}")
        k2.metric("Humans only", _pct(c.human_rate),
                  help=f"{c.labelled:,} human labels; 95% {_pct(c.human_lo)}–{_pct(c.human_hi)}")
        k3.metric("Judge-corrected", _pct(c.value),
                  help=f"{who} + {c.labelled:,} labels; 95% {_pct(c.lo)}–{_pct(c.hi)}")
        narrow = c.narrower
        st.caption(
            f"Corrected 95% {_pct(c.lo)}–{_pct(c.hi)}; humans only {_pct(c.human_lo)}–"
            f"{_pct(c.human_hi)}; raw judge {_pct(c.judge_lo)}–{_pct(c.judge_hi)}. "
            + ("" if narrow is None else
               f"The corrected interval is {abs(narrow):.0%} "
               f"{'narrower' if narrow >= 0 else 'wider'} than humans-only.")
        )
        if t.sampling in ("random", "by_verdict"):
            st.caption(md_escape(t.sampling_note))
        else:
            st.warning(md_escape(t.sampling_note), icon=":material/warning:")
        if len(t.corrected_by_week) > 1:
            st.markdown("**Per week**")
            st.dataframe(
                pl.DataFrame(
                    {
                        "week": [w for w, _ in t.corrected_by_week],
                        "judged": [e.judged for _, e in t.corrected_by_week],
                        "labelled": [e.labelled for _, e in t.corrected_by_week],
                        "raw_judge": [e.judge_rate for _, e in t.corrected_by_week],
                        "humans_only": [e.human_rate for _, e in t.corrected_by_week],
                        "corrected": [e.value for _, e in t.corrected_by_week],
                        "corrected_lo": [e.lo for _, e in t.corrected_by_week],
                        "corrected_hi": [e.hi for _, e in t.corrected_by_week],
                    }
                ),
                hide_index=True,
                key="evaluators_corrected_weeks",
                column_config={
                    k: st.column_config.NumberColumn(k.replace("_", " "), format="percent")
                    for k in ("raw_judge", "humans_only", "corrected", "corrected_lo",
                              "corrected_hi")
                },
            )

if t.kind == "label" and t.corrected_labels:
    st.subheader("Judge-corrected share of each label")
    st.caption(
        f"{who} · each label against the rest, corrected as a fail rate is (prediction-powered "
        "inference): the judge's share over every event it labelled, the humans' share over "
        "the events they labelled, and the two combined; 95% intervals."
    )
    shares = t.corrected_labels
    st.dataframe(
        pl.DataFrame({
            "label": [lab for lab, _ in shares],
            "judged": [e.judged for _, e in shares],
            "labelled": [e.labelled for _, e in shares],
            "raw_judge": [e.judge_rate for _, e in shares],
            "humans_only": [e.human_rate for _, e in shares],
            "corrected": [e.value for _, e in shares],
            "corrected_lo": [e.lo for _, e in shares],
            "corrected_hi": [e.hi for _, e in shares],
        }),
        hide_index=True, key="evaluators_label_shares",
        column_config={k: st.column_config.NumberColumn(k.replace("_", " "), format="percent")
                       for k in ("raw_judge", "humans_only", "corrected", "corrected_lo",
                                 "corrected_hi")},
    )
    if t.sampling != "random":
        st.warning(md_escape(t.sampling_note), icon=":material/warning:")

st.subheader("Disagreements")
dis = t.disagreements
if dis.height == 0:
    st.caption(f"No event where {who} and the human label differ.")
else:
    st.caption(f"{dis.height:,} events where {who} and the human label differ; newest first.")
    dis = dis.sort("ts", descending=True)
    st.dataframe(dis, hide_index=True, key="evaluators_disagreements")
    shown = tuple(dis["event_id"].head(10).to_list())
    texts = cache.query(q.event_texts, shown)
    flt = EventFilter()
    for row in dis.head(10).iter_rows(named=True):
        eid = row["event_id"]
        st.markdown(
            f"**{md_escape(eid)}** · {md_escape(row['model'] or 'n/a')} · judge "
            f"{md_escape(row['judge'])}, human {md_escape(row['human'])}"
        )
        l1, l2 = st.columns(2)
        with l1:
            st.page_link(nav.page_file(nav.EXPLORER), label=f"Open {eid} in the explorer",
                         query_params=nav.explorer_params(flt, eid),
                         icon=":material/open_in_new:")
        with l2:
            st.page_link(nav.page_file(nav.PLAYGROUND), label="Rerun it in the playground",
                         query_params=nav.playground_params(eid), icon=":material/science:")
        text = texts.filter(pl.col("event_id") == eid)
        if text.height:
            st.code(text["input_text"][0] or "", language=None, wrap_lines=True)
            st.code(text["output_text"][0] or "", language=None, wrap_lines=True)

bad = cache.query(q.problems, name, version)
if bad.height:
    with st.expander(f"{who}: {bad.height} newest errors and unparsed answers"):
        for row in bad.iter_rows(named=True):
            st.caption(f"{md_escape(row['event_id'])} · {row['status']}")
            st.code(row["raw"] or "", language=None, wrap_lines=True)

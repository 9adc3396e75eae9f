"""Datasets: named, frozen sets of events (models/datasets), listed, opened and made here.

Open it bare for the list and a form that makes one from the sidebar's filter; from a 'Save as a
dataset' link (dashboard/dataset_links.py) the form has that page's filter, cluster, new topic or
review queue filled in; `?dataset=NAME` opens one: its source, its events (and a link to them in
the explorer), and every rerun batch run on it side by side with the judge's win / tie / loss, so
a regression check's runs are compared here. Rerunning and judging a dataset stays a command
(`reviewdeck rerun --dataset`), shown ready to copy. Logged text is shown as text only.
"""

import streamlit as st

from dashboard import cache, dataset_links, nav, queue_links
from dashboard.filters_ui import current_filter, url_part
from dashboard.queries import datasets as q
from dashboard.safe_text import md_escape
from ingest.errors import ReviewdeckError
from models.datasets import store
from models.datasets.sources import DatasetSource
from models.filters import EventFilter, from_query


def _new_dataset() -> None:
    try:
        source = dataset_links.source_from_url()
    except ReviewdeckError as exc:
        st.warning(f"Ignored the source in the link: {md_escape(exc)}")
        source = None
    linked = source is not None
    if source is None:
        flt = from_query({**current_filter().to_query(), **url_part(nav.PAGE_FILTER_KEYS)})
        source = DatasetSource("filter", where=flt.to_query_string())
    with st.expander("New dataset", expanded=linked, icon=":material/add:"):
        if not linked:
            st.caption("From the sidebar's filter. The Events, Drift and Review queue pages' "
                       "**Save as a dataset** links fill in their filter, cluster, new topic "
                       "or queue.")
        st.code(source.describe(), language=None, wrap_lines=True)
        if source.kind == "new_topic" and len(source.event_ids) >= queue_links.MAX_IDS:
            st.caption(f"A link carries a topic's first {queue_links.MAX_IDS} events (most "
                       "typical first); for all of them, `reviewdeck drift --json` lists the "
                       "ids and `reviewdeck dataset create --from new_topic --ids @FILE` takes "
                       "them.")
        try:
            n = cache.query(q.preview, source)
            st.caption(f"{n:,} events match now; the dataset keeps exactly these, whatever is "
                       "ingested later.")
        except ReviewdeckError as exc:
            st.warning(md_escape(exc), icon=":material/warning:")
            return
        with st.form("datasets_create"):
            c1, c2 = st.columns(2)
            name = c1.text_input("Name", value=source.label or "", key="datasets_new_name",
                                 placeholder="e.g. billing-fails-w07")
            by = c2.text_input("Made by", key="datasets_new_by")
            description = st.text_input("Description", key="datasets_new_description")
            c3, c4 = st.columns(2)
            sample = c3.number_input("Sample N (0 = all of them)", 0, 1_000_000, value=0,
                                     key="datasets_new_sample")
            seed = c4.number_input("Seed", 0, 2**31, value=0, key="datasets_new_seed")
            go = st.form_submit_button("Create dataset", type="primary")
        if not go:
            return
        made_from = DatasetSource(
            source.kind, where=source.where, queue_id=source.queue_id,
            event_ids=source.event_ids, label=source.label,
            sample_n=int(sample) or None, seed=int(seed))
        try:
            made = cache.write(store.create_dataset, name, made_from,
                               created_by=by.strip() or None,
                               description=description.strip() or None)
        except ReviewdeckError as exc:
            st.error(md_escape(exc), icon=":material/error:")
            return
        for key in (*queue_links.FILTER_KEYS, *dataset_links.LINK_KEYS):
            if key in st.query_params:
                del st.query_params[key]
        st.query_params["dataset"] = made.name
        st.rerun()


def _one(name: str) -> None:
    ds = cache.query(q.get, name)
    if ds is None:
        st.warning(f"No dataset named {md_escape(name)}.", icon=":material/search_off:")
        return
    st.subheader(ds.name)
    st.caption(f"Made {ds.created_at:%Y-%m-%d %H:%M} UTC"
               + (f" by {md_escape(ds.created_by)}" if ds.created_by else "")
               + (f" · {md_escape(ds.description)}" if ds.description else ""))
    k1, k2 = st.columns([1, 3])
    k1.metric("Events", f"{ds.n_events:,}")
    source = DatasetSource(ds.source_kind, where=ds.source.get("where", ""),
                           queue_id=ds.source.get("queue_id"),
                           event_ids=tuple(ds.source.get("event_ids", ())),
                           label=ds.source.get("label"), sample_n=ds.source.get("sample_n"),
                           seed=ds.source.get("seed", 0))
    with k2:
        st.markdown("**Made from** (frozen: later ingests do not change it)")
        st.code(source.describe(), language=None, wrap_lines=True)
    flt = EventFilter(dataset=ds.name, reruns="include")
    l1, l2 = st.columns(2)
    with l1:
        nav.link_to_explorer(flt, f"Open its {ds.n_events:,} events in the explorer")
    with l2:
        queue_links.link_to_queue("filter", flt=flt, label=ds.name,
                                  text="Review a sample of them")

    st.markdown("**Rerun batches on it** (oldest first)")
    runs = cache.query(q.runs, ds.name)
    if runs.is_empty():
        st.caption("None yet.")
    else:
        st.dataframe(runs, hide_index=True, key="datasets_runs",
                     column_config={"spent_usd": st.column_config.NumberColumn(
                         "spent", format="$%.4f")})
        st.caption("Wins / ties / losses: the judge's pairwise verdict on each rerun against "
                   "its original, both orders; unreadable judgements are counted apart.")
    st.markdown("**Run a regression check on it**")
    st.code(f"reviewdeck rerun --dataset {ds.name} --model CANDIDATE --judge JUDGE\n"
            f"reviewdeck evaluate --dataset {ds.name}", language="sh")

    events = cache.query(q.events, ds.name)
    st.markdown(f"**Its events** ({'first ' if ds.n_events > events.height else ''}"
                f"{events.height:,} of {ds.n_events:,}, in the dataset's order)")
    st.dataframe(events, hide_index=True, key="datasets_events")


st.title("Datasets")
st.caption("A dataset is a named, frozen set of events: made once from a filter, a cluster, a "
           "new topic or a review queue, it never changes, so rerunning it with a candidate "
           "model is a regression check you can repeat and compare.")
try:
    _new_dataset()
except ReviewdeckError as exc:
    st.error(md_escape(exc), icon=":material/error:")

listed = cache.query(q.list_datasets)
if listed.is_empty():
    st.info("No datasets yet. Make one above, or with `reviewdeck dataset create`.",
            icon=":material/dataset:")
    st.stop()
names = listed["name"].to_list()
wanted = st.query_params.get("dataset")
if wanted and wanted not in names:
    names = [wanted, *names]
# The URL wins when it changed since this page last wrote it (a link, a dataset just made).
if wanted and st.session_state.get("datasets_url_seen") != wanted:
    st.session_state["datasets_open"] = wanted
if st.session_state.get("datasets_open") not in names:
    st.session_state.pop("datasets_open", None)
picked = st.selectbox("Open", names, key="datasets_open")
if picked != wanted:
    st.query_params["dataset"] = picked
st.session_state["datasets_url_seen"] = picked
st.dataframe(listed, hide_index=True, key="datasets_list")
_one(picked)

"""'Review a sample' links: any page opens the Review queue page with a new queue's source set.

A link carries the source in the query string the way nav.py links carry a filter: `source`
(the kind: filter, cluster, segment, new_topic, rerun_batch), the filter's own keys
(models.filters), `ids` (a new topic's event ids, comma-separated), `batch` (a rerun batch) and
`label` (how the source is named). The queue page reads it back with `source_from_url`.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import nav
from dashboard.filters_ui import SHARED_KEYS, url_part
from models.filters import EventFilter, from_query
from models.queue.sources import QueueSource

FILTER_KEYS = (*SHARED_KEYS, *nav.PAGE_FILTER_KEYS)
LINK_KEYS = ("source", "ids", "batch", "label")
MAX_IDS = 300  # a URL stays pasteable; a longer topic is sampled from its first ids


def queue_params(
    kind: str,
    *,
    flt: EventFilter | None = None,
    event_ids: Sequence[str] = (),
    batch_id: str | None = None,
    label: str | None = None,
) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {"source": [kind]}
    if flt is not None:
        params.update(flt.to_query())
    if event_ids:
        params["ids"] = [",".join(list(event_ids)[:MAX_IDS])]
    if batch_id:
        params["batch"] = [batch_id]
    if label:
        params["label"] = [label]
    return params


def link_to_queue(
    kind: str,
    *,
    flt: EventFilter | None = None,
    event_ids: Sequence[str] = (),
    batch_id: str | None = None,
    label: str | None = None,
    text: str = "Review a sample",
) -> None:
    """A link to the Review queue page with a new queue from this source ready to create."""
    st.page_link(
        nav.page_file(nav.QUEUE),
        label=text,
        icon=":material/rate_review:",
        query_params=queue_params(kind, flt=flt, event_ids=event_ids, batch_id=batch_id,
                                  label=label),
    )


def source_from_url() -> QueueSource | None:
    """The source a 'Review a sample' link carried; None when the page was opened bare.
    A bad link raises the filter's or the source's error, which the page shows."""
    kind = st.query_params.get("source")
    if not kind:
        return None
    flt = from_query(url_part(FILTER_KEYS))
    ids = tuple(x for x in (st.query_params.get("ids") or "").split(",") if x)
    return QueueSource(
        kind,
        where=flt.to_query_string() if kind in ("filter", "cluster", "segment") else "",
        event_ids=ids,
        batch_id=st.query_params.get("batch"),
        label=st.query_params.get("label"),
    )

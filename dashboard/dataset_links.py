"""'Save as a dataset' links: any page opens the Datasets page with a new dataset's source set.

The link speaks the same query-string vocabulary as the 'Review a sample' links
(dashboard/queue_links.py): `source` (filter, cluster, segment, new_topic), the filter's keys,
`ids` and `label`, plus `from_queue` for a review queue's items. The Datasets page reads it back
with `source_from_url`.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import nav, queue_links
from dashboard.filters_ui import url_part
from models.datasets.sources import DatasetSource
from models.filters import EventFilter, from_query

LINK_KEYS = (*queue_links.LINK_KEYS, "from_queue")


def dataset_params(
    kind: str,
    *,
    flt: EventFilter | None = None,
    event_ids: Sequence[str] = (),
    queue_id: int | None = None,
    label: str | None = None,
) -> dict[str, list[str]]:
    params = queue_links.queue_params(kind, flt=flt, event_ids=event_ids, label=label)
    if queue_id is not None:
        params["from_queue"] = [str(queue_id)]
    return params


def link_to_dataset(
    kind: str,
    *,
    flt: EventFilter | None = None,
    event_ids: Sequence[str] = (),
    queue_id: int | None = None,
    label: str | None = None,
    text: str = "Save as a dataset",
) -> None:
    """A link to the Datasets page with a new dataset from this source ready to create."""
    st.page_link(
        nav.page_file(nav.DATASETS),
        label=text,
        icon=":material/dataset:",
        query_params=dataset_params(kind, flt=flt, event_ids=event_ids, queue_id=queue_id,
                                    label=label),
    )


def source_from_url() -> DatasetSource | None:
    """The source a 'Save as a dataset' link carried; None when the page was opened bare.
    A bad link raises the filter's or the source's error, which the page shows."""
    kind = st.query_params.get("source")
    if not kind:
        return None
    if kind == "queue":
        raw = st.query_params.get("from_queue") or ""
        return DatasetSource("queue", queue_id=int(raw) if raw.isdigit() else None)
    flt = from_query(url_part(queue_links.FILTER_KEYS))
    ids = tuple(x for x in (st.query_params.get("ids") or "").split(",") if x)
    # a "what moved" segment is a filter (its tag or model), as a dataset source
    return DatasetSource(
        "filter" if kind == "segment" else kind,
        where=flt.to_query_string() if kind in ("filter", "cluster", "segment") else "",
        event_ids=ids,
        label=st.query_params.get("label"),
    )

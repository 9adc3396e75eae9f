"""Page addresses and drill-down links, so every page links to every other the same way.

Links carry the shared filter in the query string (models.filters), so a drill-down is a URL a
reviewer can paste into the meeting chat and it reopens the same view.
"""

from __future__ import annotations

import streamlit as st

from models.filters import EventFilter

# url_path of each page; app.py registers the pages under these paths.
OVERVIEW = "overview"
TRENDS = "trends"
EXPLORER = "events"
DRIFT = "drift"
PLAYGROUND = "playground"
WEEKLY = "weekly"
EVALUATORS = "evaluators"
QUEUE = "queue"
DATASETS = "datasets"


# Filter keys a page carries in its URL beyond the sidebar's shared ones (filters_ui.SHARED_KEYS):
# the explorer's own filter, which a link to the playground carries along.
PAGE_FILTER_KEYS = ("status", "feedback", "text", "cluster", "user", "kind", "rerun_of", "reruns",
                    "dataset")


def page_file(url_path: str) -> str:
    return f"app_pages/{url_path}.py"


def explorer_params(flt: EventFilter, event_id: str | None = None) -> dict[str, list[str]]:
    params = flt.to_query()
    if event_id:
        params["event"] = [event_id]
    return params


def link_to_explorer(
    flt: EventFilter, label: str, *, key: str | None = None, icon: str = ":material/manage_search:"
) -> None:
    """A link that opens the events explorer filtered to the events behind a number."""
    st.page_link(page_file(EXPLORER), label=label, icon=icon, query_params=explorer_params(flt))


def open_explorer(flt: EventFilter, event_id: str | None = None) -> None:
    st.switch_page(page_file(EXPLORER), query_params=explorer_params(flt, event_id))


def playground_params(event_id: str, flt: EventFilter | None = None) -> dict[str, list[str]]:
    """The playground's address for one event, carrying the filter the reviewer came from, so
    its batch section reruns that filter (the events like this one), not a default."""
    params: dict[str, list[str]] = {"event": [event_id]}  # first: the address reads ?event=…
    if flt is not None:
        params.update(flt.to_query())
        # Always one page key, even for a filter of only sidebar keys: it says "a filter came
        # with this link, take it as it is" (the playground otherwise offers negative feedback).
        params.setdefault("reruns", [flt.reruns])
    return params


def open_playground(event_id: str, flt: EventFilter | None = None) -> None:
    st.switch_page(page_file(PLAYGROUND), query_params=playground_params(event_id, flt))

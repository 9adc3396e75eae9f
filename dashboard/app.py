"""The Streamlit entry point: page config, the page list (st.navigation) and the shared filters.

Pages are flat scripts under app_pages/; they read `current_filter()`, call cached queries and
draw. Start it with `reviewdeck serve` (or `reviewdeck demo`). A ReviewdeckError raised anywhere
in a page (warehouse busy, schema too old, bad link) is shown as an error with its next step
instead of a traceback.
"""

from contextlib import nullcontext
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard import cache, nav
from dashboard.filters_ui import sidebar_filter
from dashboard.safe_text import md_escape
from ingest.errors import ReviewdeckError

# A local image, not a :material/…: icon: the browser fetches those favicons from Google's font
# CDN, and the app makes no request off this machine.
st.set_page_config(
    page_title="reviewdeck",
    page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
    layout="wide",
)

pages = {
    "Review": [
        st.Page(
            nav.page_file(nav.OVERVIEW),
            title="Overview",
            url_path=nav.OVERVIEW,
            icon=":material/dashboard:",
            default=True,
        ),
        st.Page(
            nav.page_file(nav.TRENDS),
            title="Feedback trends",
            url_path=nav.TRENDS,
            icon=":material/trending_up:",
        ),
        st.Page(
            nav.page_file(nav.DRIFT),
            title="Drift & clusters",
            url_path=nav.DRIFT,
            icon=":material/bubble_chart:",
        ),
        st.Page(
            nav.page_file(nav.WEEKLY),
            title="Weekly review",
            url_path=nav.WEEKLY,
            icon=":material/event_note:",
        ),
        st.Page(
            nav.page_file(nav.EVALUATORS),
            title="Evaluators",
            url_path=nav.EVALUATORS,
            icon=":material/rule:",
        ),
        st.Page(
            nav.page_file(nav.QUEUE),
            title="Review queue",
            url_path=nav.QUEUE,
            icon=":material/rate_review:",
        ),
    ],
    "Investigate": [
        st.Page(
            nav.page_file(nav.EXPLORER),
            title="Events",
            url_path=nav.EXPLORER,
            icon=":material/list:",
        ),
        st.Page(
            nav.page_file(nav.PLAYGROUND),
            title="Playground",
            url_path=nav.PLAYGROUND,
            icon=":material/science:",
        ),
        st.Page(
            nav.page_file(nav.DATASETS),
            title="Datasets",
            url_path=nav.DATASETS,
            icon=":material/dataset:",
        ),
    ],
}


def _require_login() -> None:
    """When `[auth]` is configured in secrets.toml, only signed-in users get past this point.

    Streamlit's OIDC login (st.login) does the work; see docs/serving.md. Without `[auth]` the
    app is open to whoever can reach it, which is why it binds localhost by default.
    """
    try:
        configured = "auth" in st.secrets
    except StreamlitSecretNotFoundError:
        configured = False
    if not configured:
        return
    if not st.user.get("is_logged_in", False):
        st.title("reviewdeck")
        st.info("Sign in to see the quality review.", icon=":material/lock:")
        st.button("Sign in", on_click=st.login, type="primary", key="app_login")
        st.stop()
    st.sidebar.caption(f"Signed in as {st.user.get('email') or st.user.get('name') or 'user'}")
    st.sidebar.button("Sign out", on_click=st.logout, key="app_logout")


_require_login()
page = st.navigation(pages)
if not Path(cache.db_path()).exists():
    st.info(
        f"No warehouse at {md_escape(cache.db_path())} yet. Run `reviewdeck demo` to load demo "
        "data, or "
        "`reviewdeck ingest YOUR_LOGS.jsonl` and then `reviewdeck serve`.",
        icon=":material/database:",
    )
    st.stop()
# One warehouse connection for the run's cache misses (a first visit misses about ten), except
# on the playground, whose LLM calls would hold the file for as long as they take.
shared = nullcontext() if page.url_path == nav.PLAYGROUND else cache.shared_connection()
try:
    with shared:
        sidebar_filter()
        page.run()
except ReviewdeckError as exc:
    st.error(md_escape(exc), icon=":material/error:")
    st.stop()

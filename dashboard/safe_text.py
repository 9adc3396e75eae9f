"""Escaping for the few places where text we do not control must sit inside Markdown.

Streamlit's st.info/st.warning/st.error and captions render Markdown: a logged value or a value
from a pasted link (a filter in the query string) could otherwise become a link, an image that
loads from elsewhere, or a colour directive. Logged content itself is shown with st.text,
st.code or st.dataframe; this is for messages that quote such values.
"""

from __future__ import annotations

import re

# CommonMark's escapable punctuation, plus ':' (Streamlit's :emoji: and :color[...] directives).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$:&\"'=])")


def md_escape(text: object) -> str:
    """`text` as Markdown that renders as exactly these characters."""
    return _SPECIAL.sub(r"\\\1", str(text))

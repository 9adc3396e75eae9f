"""One logged conversation drawn as text: the messages of a request or a response, in order.

Shared by the events explorer and the review queue, so a reviewer sees a conversation the same
way everywhere: each message's role, its content with st.text (never Markdown or HTML), and
tool calls, tool results and structured content as JSON.
"""

from __future__ import annotations

import json

import streamlit as st


def load_json(text: str | None) -> object:
    """A JSON column's value; text that is not JSON comes back as it is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def render_messages(raw: str | None) -> None:
    messages = load_json(raw)
    if not messages:
        st.caption("None logged.")
        return
    if not isinstance(messages, list):
        st.json(messages)
        return
    for msg in messages:
        with st.container(border=True):
            if not isinstance(msg, dict):
                st.json(msg)
                continue
            # The role is logged content too: text, not markdown.
            st.text(
                str(msg.get("role", "?")).upper() + (f" · {msg['name']}" if msg.get("name") else "")
            )
            content = msg.get("content")
            if isinstance(content, str):
                st.text(content)
            elif content is not None:
                st.json(content, expanded=True)
            for key in ("tool_calls", "tool_call_id"):
                if msg.get(key):
                    st.json({key: msg[key]}, expanded=False)

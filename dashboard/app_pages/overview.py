"""Page under construction (being written in this change)."""

import streamlit as st

st.info("This page is being built.")

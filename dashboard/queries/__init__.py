"""Every SELECT the UI runs, one module per page; each function takes the connection first and
returns a polars frame, so tests call them on a temporary warehouse without Streamlit."""

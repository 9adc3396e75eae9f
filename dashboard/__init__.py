"""The Streamlit app and the `reviewdeck` command. Nothing imports this package."""

"""The app's pages, one flat script each, run by st.navigation (not imported)."""

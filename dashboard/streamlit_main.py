"""`python -m dashboard.streamlit_main run app.py …`: Streamlit, heavy libraries loaded first.

scipy and statsmodels take ~2 s to import. Imported lazily, the first reviewer to open the trends,
drift or weekly page pays that on top of the page's queries; imported in a background thread,
they race the page's own imports (pandas ends up half-initialised). So the server process
imports them once, before Streamlit starts serving.
"""

import sys


def main() -> None:
    import altair  # noqa: F401
    import duckdb  # noqa: F401
    import polars  # noqa: F401
    import scipy.stats  # noqa: F401
    import statsmodels.stats.multitest  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401
    from streamlit.web.cli import main as streamlit_main

    sys.exit(streamlit_main())


if __name__ == "__main__":
    main()

"""`trend_facts.feedback_names`: the names of an event's feedback, for the explorer's list.

The events list shows which feedback each of its 50 rows carries. Looking those ids up in
`feedback` reads the whole table (it has no index and nothing to prune by): 222 ms at 5M events,
over the 150 ms bar and growing with the data (docs/scale.md). `trend_facts` already folds each
event's feedback into one row, in time order, so the list reads the names from there with the
page's time range as a constant and DuckDB skips the row groups outside it. An ART index on
`feedback(event_id)` would also do, but it made the feedback file 5x larger and its inserts
2.5x slower.

Existing rows are filled here once; the loader's refresh keeps the column in step afterwards.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE trend_facts ADD COLUMN feedback_names VARCHAR")
    con.execute(
        """
        UPDATE trend_facts SET feedback_names = n.names
        FROM (
            SELECT event_id, string_agg(DISTINCT name, ', ' ORDER BY name) AS names
            FROM feedback WHERE event_id IS NOT NULL
            GROUP BY event_id
        ) n
        WHERE trend_facts.event_id = n.event_id
        """
    )

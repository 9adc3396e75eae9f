"""Datasets: named, frozen sets of events to rerun and evaluate again and again (docs/datasets.md).

A dataset keeps its event ids (`dataset_events`), fixed when it is made, so a later ingest never
changes what it holds: "rerun the billing failures of week 7 with the candidate model, then
judge" means the same events each time. `source` records what it was made from (a filter, a
review queue, a cluster, a new topic's event ids) for people to read; it is never re-evaluated.

`rerun_batches.dataset` names the dataset a batch was run on, so the runs on one dataset can be
listed and compared.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SEQUENCE datasets_seq START 1")
    con.execute(
        """
        CREATE TABLE datasets (
            dataset_id    BIGINT PRIMARY KEY DEFAULT nextval('datasets_seq'),
            name          VARCHAR NOT NULL UNIQUE,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            created_by    VARCHAR,
            source_kind   VARCHAR NOT NULL,  -- filter, queue, cluster, new_topic, events
            source        JSON,              -- the filter, queue id, cluster id, ...
            n_events      BIGINT NOT NULL,
            description   VARCHAR
        )
        """
    )
    con.execute(
        """
        CREATE TABLE dataset_events (
            dataset_id    BIGINT NOT NULL,
            event_id      VARCHAR NOT NULL,
            position      INTEGER NOT NULL,  -- the order it was made in (stable listings)
            PRIMARY KEY (dataset_id, event_id)
        )
        """
    )
    con.execute("ALTER TABLE rerun_batches ADD COLUMN dataset VARCHAR")

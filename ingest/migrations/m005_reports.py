"""Frozen weekly reports and reviewers' notes (the weekly review pack, docs/weekly-report.md).

A report is frozen when it is generated: its whole content is kept as JSON (so reopening it
shows exactly what the meeting saw), its numbers are also kept one per row (so a fresh
regeneration can be compared number by number, and so they can be queried with SQL), and the
event ids behind it are kept (so "what arrived since" is an anti-join, not a guess).
Notes and action items belong to a week and point at a segment, a cluster, an event or the
week itself; an open action item is carried into later weeks until someone closes it.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SEQUENCE reports_seq START 1")
    con.execute(
        """
        CREATE TABLE reports (
            report_id    BIGINT PRIMARY KEY DEFAULT nextval('reports_seq'),
            week         VARCHAR NOT NULL,      -- ISO week, e.g. '2026-W46'
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            created_by   VARCHAR,
            title        VARCHAR,
            content      JSON NOT NULL,         -- the whole report as it was generated
            n_events     BIGINT,
            max_ingested_at TIMESTAMPTZ,        -- newest ingested_at of the data it saw
            generator    VARCHAR                -- content format version
        )
        """
    )
    con.execute(
        """
        CREATE TABLE report_numbers (
            report_id BIGINT NOT NULL,
            key       VARCHAR NOT NULL,         -- stable id, e.g. 'headline/thumbs_up_rate'
            label     VARCHAR,
            value     DOUBLE,
            n         BIGINT,
            lo        DOUBLE,
            hi        DOUBLE,
            PRIMARY KEY (report_id, key)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE report_events (
            report_id BIGINT NOT NULL,
            event_id  VARCHAR NOT NULL,
            role      VARCHAR NOT NULL          -- 'week' (counted), 'example' (shown)
        )
        """
    )
    con.execute("CREATE SEQUENCE report_notes_seq START 1")
    con.execute(
        """
        CREATE TABLE report_notes (
            note_id      BIGINT PRIMARY KEY DEFAULT nextval('report_notes_seq'),
            week         VARCHAR NOT NULL,      -- the week it was written for
            target_kind  VARCHAR NOT NULL,      -- 'week', 'segment', 'cluster', 'event'
            target_id    VARCHAR,               -- segment key, cluster id or event id
            text         VARCHAR NOT NULL,
            is_action    BOOLEAN NOT NULL DEFAULT FALSE,
            owner        VARCHAR,
            author       VARCHAR,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            closed_at    TIMESTAMPTZ,
            closed_week  VARCHAR,
            closed_by    VARCHAR
        )
        """
    )

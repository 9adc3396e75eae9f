"""`trend_facts`: one narrow row per event with its feedback folded in, for the trends view.

The trends view answers every question from counts per period and segment. Joining `events`
to `feedback` and aggregating at 1M events takes ~0.3 s on two cores, above the page's 150 ms
bar, so the loader keeps this table in step (ingest/load/derived.py) and the page aggregates one
narrow table instead. Its columns keep the names of `events` (ts, model, tags, ...) so the
shared filter's SQL (models.filters.where_sql) applies to it unchanged. See docs/trends.md.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE trend_facts (
            event_id        VARCHAR NOT NULL,
            ts              TIMESTAMPTZ NOT NULL,
            day             DATE NOT NULL,
            week            DATE NOT NULL,
            kind            VARCHAR,
            model           VARCHAR,
            prompt_version  VARCHAR,
            tags            VARCHAR[],
            environment     VARCHAR,
            status          VARCHAR,
            user_id         VARCHAR,
            rerun_of        VARCHAR,
            user_first_week DATE,
            latency_ms      DOUBLE,
            cost_usd        DOUBLE,
            is_error        BOOLEAN NOT NULL,
            has_vote        BOOLEAN NOT NULL,
            thumbs_up       BOOLEAN NOT NULL,
            negative        BOOLEAN NOT NULL,
            regenerated     BOOLEAN NOT NULL,
            copied          BOOLEAN NOT NULL,
            edited          BOOLEAN NOT NULL,
            heavy_edit      BOOLEAN NOT NULL,
            edit_size       DOUBLE,
            corrected       BOOLEAN NOT NULL,
            correction_size DOUBLE,
            explicit        BOOLEAN NOT NULL,
            any_feedback    BOOLEAN NOT NULL,
            fb_user         INTEGER NOT NULL,
            fb_reviewer     INTEGER NOT NULL,
            fb_judge        INTEGER NOT NULL,
            fb_code         INTEGER NOT NULL
        )
        """
    )
    con.execute("CREATE TABLE derived_state (name VARCHAR PRIMARY KEY, watermark TIMESTAMPTZ)")

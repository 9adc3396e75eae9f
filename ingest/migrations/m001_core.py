"""The public core: events, feedback, and the bookkeeping of what was loaded and rejected.

`events` and `feedback` are a documented interface (docs/schema.md): users query them with SQL
and every view relies on these names. Uniqueness of event_id / feedback_id is enforced by the
loader (anti-join on insert), not by an index, so bulk loads stay fast; see docs/schema.md.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE events (
            event_id          VARCHAR NOT NULL,
            trace_id          VARCHAR,
            parent_id         VARCHAR,
            ts                TIMESTAMPTZ NOT NULL,
            ts_end            TIMESTAMPTZ,
            kind              VARCHAR NOT NULL DEFAULT 'llm',
            name              VARCHAR,
            provider          VARCHAR,
            model             VARCHAR,
            model_requested   VARCHAR,
            prompt_name       VARCHAR,
            prompt_version    VARCHAR,
            input_messages    JSON,
            output_messages   JSON,
            input_text        VARCHAR,
            output_text       VARCHAR,
            params            JSON,
            tokens_in         BIGINT,
            tokens_out        BIGINT,
            tokens_cache_read BIGINT,
            tokens_reasoning  BIGINT,
            cost_usd          DOUBLE,
            cost_source       VARCHAR,
            latency_ms        DOUBLE,
            ttft_ms           DOUBLE,
            status            VARCHAR NOT NULL DEFAULT 'ok',
            error_type        VARCHAR,
            error_message     VARCHAR,
            user_id           VARCHAR,
            session_id        VARCHAR,
            tags              VARCHAR[],
            environment       VARCHAR,
            rerun_of          VARCHAR,
            source_format     VARCHAR NOT NULL,
            raw               JSON,
            file_id           BIGINT,
            ingested_at       TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    con.execute(
        """
        CREATE TABLE feedback (
            feedback_id   VARCHAR NOT NULL,
            event_id      VARCHAR,
            trace_id      VARCHAR,
            name          VARCHAR NOT NULL,
            kind          VARCHAR NOT NULL,
            value         DOUBLE,
            label         VARCHAR,
            source        VARCHAR NOT NULL,
            comment       VARCHAR,
            correction    VARCHAR,
            author        VARCHAR,
            ts            TIMESTAMPTZ,
            source_format VARCHAR,
            file_id       BIGINT,
            ingested_at   TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    con.execute("CREATE SEQUENCE ingested_files_seq START 1")
    con.execute(
        """
        CREATE TABLE ingested_files (
            file_id       BIGINT PRIMARY KEY DEFAULT nextval('ingested_files_seq'),
            path          VARCHAR NOT NULL,
            content_hash  VARCHAR NOT NULL,
            size_bytes    BIGINT,
            source_format VARCHAR,
            lines_read    BIGINT,
            events_inserted   BIGINT,
            feedback_inserted BIGINT,
            duplicates    BIGINT,
            rejected      BIGINT,
            started_at    TIMESTAMPTZ,
            finished_at   TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    con.execute(
        """
        CREATE TABLE rejects (
            file_id     BIGINT,
            path        VARCHAR NOT NULL,
            line_no     BIGINT,
            reason      VARCHAR NOT NULL,
            raw_text    VARCHAR,
            rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )

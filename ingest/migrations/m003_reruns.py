"""Tables of the rerun panel: batches of reruns, their items (for resuming) and judge verdicts.

The reruns themselves are ordinary `events` rows (environment 'playground', rerun_of = the
original event_id) and reviewer verdicts are ordinary `feedback` rows, so every view sees them;
these tables only keep what a batch needs beyond that: which events it covers, which are done
(a second run skips them), what it cost, and the LLM judge's pairwise judgements.
See docs/playground.md.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE rerun_batches (
            batch_id      VARCHAR PRIMARY KEY,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at    TIMESTAMPTZ,
            where_text    VARCHAR,
            model         VARCHAR NOT NULL,
            endpoint      VARCHAR,
            params        JSON,
            sample_n      BIGINT,
            seed          BIGINT,
            max_cost_usd  DOUBLE,
            estimate_usd  DOUBLE,
            spent_usd     DOUBLE NOT NULL DEFAULT 0,
            judge_model   VARCHAR,
            rubric        VARCHAR,
            status        VARCHAR NOT NULL DEFAULT 'planned',
            n_items       BIGINT
        )
        """
    )
    con.execute(
        """
        CREATE TABLE rerun_items (
            batch_id        VARCHAR NOT NULL,
            event_id        VARCHAR NOT NULL,
            rerun_event_id  VARCHAR,
            status          VARCHAR NOT NULL DEFAULT 'pending',
            attempts        INTEGER NOT NULL DEFAULT 0,
            error_type      VARCHAR,
            cost_usd        DOUBLE,
            judge_cost_usd  DOUBLE,
            finished_at     TIMESTAMPTZ,
            PRIMARY KEY (batch_id, event_id)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE rerun_judgements (
            batch_id        VARCHAR,
            event_id        VARCHAR NOT NULL,
            rerun_event_id  VARCHAR NOT NULL,
            judge_model     VARCHAR NOT NULL,
            rerun_first     BOOLEAN NOT NULL,
            preferred       VARCHAR NOT NULL,
            rationale       VARCHAR,
            cost_usd        DOUBLE,
            ts              TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )

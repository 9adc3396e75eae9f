"""Tables written by `reviewdeck analyze`: embeddings, embedder, clusters, map and drift.

Everything here is derived from `events` and can be rebuilt by `reviewdeck analyze --full`.
`cluster_members` and `clusters` are a public interface: the shared filter
(`models.filters.where_sql`) and the trends page's "split by cluster" read them by these names.
The analysis job replaces the current rows of the result tables in one transaction, so a reader
sees either the previous analysis or the new one, never half of each.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    # A fitted embedder (e.g. TF-IDF + SVD) pickled once and reused, so vectors from different
    # runs live in one space; a refit gets a new embedder_id and never mixes with the old one.
    con.execute(
        """
        CREATE TABLE embedder_models (
            embedder_id VARCHAR PRIMARY KEY,
            kind        VARCHAR NOT NULL,
            dim         INTEGER NOT NULL,
            params      JSON,
            model       BLOB,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    # Vectors are cached by the text's content hash and the embedder that made them, so a text
    # seen before (in any event) is never embedded twice by the same embedder.
    con.execute(
        """
        CREATE TABLE embeddings (
            content_hash VARCHAR NOT NULL,
            embedder_id  VARCHAR NOT NULL,
            vector       FLOAT[] NOT NULL,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    con.execute("CREATE SEQUENCE analysis_runs_seq START 1")
    con.execute(
        """
        CREATE TABLE analysis_runs (
            run_id        INTEGER PRIMARY KEY DEFAULT nextval('analysis_runs_seq'),
            started_at    TIMESTAMPTZ NOT NULL,
            finished_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            embedder_id   VARCHAR NOT NULL,
            field         VARCHAR NOT NULL,
            seed          INTEGER NOT NULL,
            n_events      BIGINT NOT NULL,
            n_new_events  BIGINT NOT NULL,
            n_embedded    BIGINT NOT NULL,
            n_clusters    INTEGER NOT NULL,
            mode          VARCHAR NOT NULL,
            params        JSON,
            timings       JSON,
            embed_cost_usd DOUBLE
        )
        """
    )
    con.execute(
        """
        CREATE TABLE clusters (
            cluster_id   INTEGER PRIMARY KEY,
            label        VARCHAR NOT NULL,
            keywords     VARCHAR[] NOT NULL,
            examples     VARCHAR[] NOT NULL,
            llm_name     VARCHAR,
            size         BIGINT NOT NULL,
            centroid     FLOAT[] NOT NULL,
            radius       DOUBLE,
            embedder_id  VARCHAR NOT NULL,
            active       BOOLEAN NOT NULL,
            first_run_id INTEGER NOT NULL,
            last_run_id  INTEGER NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE cluster_members (
            event_id   VARCHAR NOT NULL,
            cluster_id INTEGER NOT NULL,
            similarity FLOAT
        )
        """
    )
    con.execute(
        """
        CREATE TABLE map_points (
            event_id VARCHAR NOT NULL,
            x        FLOAT NOT NULL,
            y        FLOAT NOT NULL,
            fitted   BOOLEAN NOT NULL
        )
        """
    )
    # The drift table for the default windows (previous 4 weeks against the latest week), kept
    # so the page opens instantly; other windows are computed on request from the same inputs.
    con.execute(
        """
        CREATE TABLE drift_overall (
            run_id          INTEGER NOT NULL,
            reference_start DATE NOT NULL,
            reference_end   DATE NOT NULL,
            current_start   DATE NOT NULL,
            current_end     DATE NOT NULL,
            method          VARCHAR NOT NULL,
            statistic       DOUBLE,
            p_value         DOUBLE,
            drifted         BOOLEAN,
            n_reference     BIGINT,
            n_current       BIGINT
        )
        """
    )
    con.execute(
        """
        CREATE TABLE drift_clusters (
            run_id          INTEGER NOT NULL,
            cluster_id      INTEGER NOT NULL,
            n_reference     BIGINT NOT NULL,
            n_current       BIGINT NOT NULL,
            share_reference DOUBLE NOT NULL,
            share_current   DOUBLE NOT NULL,
            p_value         DOUBLE,
            p_adjusted      DOUBLE,
            status          VARCHAR NOT NULL
        )
        """
    )
    # Short names written by an LLM, cached by the keywords+examples they were written from.
    con.execute(
        """
        CREATE TABLE cluster_names (
            name_key   VARCHAR PRIMARY KEY,
            model      VARCHAR NOT NULL,
            name       VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )

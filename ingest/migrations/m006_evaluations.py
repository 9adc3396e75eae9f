"""Evaluators and human review: the evidence reviewdeck makes itself (docs/evaluators.md).

Scores and labels are ordinary `feedback` rows, so every page, cluster and pack uses them. An
evaluator's rows carry its name in `feedback.name` and its version in `evaluator_version`; a
reviewer's label on the same rubric carries the same name with source 'reviewer', which is how a
judge is paired with the humans who check it (models/judge_trust). A new version never
overwrites an old one: both sets of rows stay, and pages pick the latest version.

`evaluations` is the ledger of evaluator runs: one row per (evaluator, version, event) sampled,
whatever happened (scored, error, unparsed). Its key is what makes a killed run resume with each
sampled event scored exactly once: the row and its feedback row are committed together.

Review queues hold a frozen, optionally stratified sample of events; the labels reviewers give
are `feedback` rows with source 'reviewer', `author` and `queue_id`; skips are kept apart since a
skip is not a label.
"""

import duckdb


def up(con: duckdb.DuckDBPyConnection) -> None:
    for column, kind in (
        ("evaluator_version", "VARCHAR"),  # set on rows an evaluator wrote
        ("judge_model", "VARCHAR"),  # the model an llm evaluator asked
        ("cost_usd", "DOUBLE"),  # what producing this row cost (a judge call)
        ("queue_id", "BIGINT"),  # the review queue a reviewer's label was given in
        ("tags", "VARCHAR[]"),  # a reviewer's failure tags (hallucination, refusal, ...)
    ):
        con.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")

    con.execute("CREATE SEQUENCE evaluator_runs_seq START 1")
    con.execute(
        """
        CREATE TABLE evaluator_runs (
            run_id        BIGINT PRIMARY KEY DEFAULT nextval('evaluator_runs_seq'),
            started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            finished_at   TIMESTAMPTZ,
            config_path   VARCHAR,
            evaluators    JSON,            -- [{name, version, kind, sample_rate, ...}]
            n_scored      BIGINT,
            n_errors      BIGINT,
            n_unparsed    BIGINT,
            cost_usd      DOUBLE,
            stopped       VARCHAR          -- NULL when it ran to the end, else why it stopped
        )
        """
    )
    con.execute(
        """
        CREATE TABLE evaluations (
            evaluator     VARCHAR NOT NULL,
            version       VARCHAR NOT NULL,
            event_id      VARCHAR NOT NULL,
            run_id        BIGINT,
            status        VARCHAR NOT NULL,  -- 'scored', 'error', 'unparsed'
            feedback_id   VARCHAR,           -- the feedback row of a scored event
            value         DOUBLE,
            label         VARCHAR,
            reason        VARCHAR,
            raw           VARCHAR,           -- a judge's unparsed answer; an error's message
            judge_model   VARCHAR,
            cost_usd      DOUBLE,
            latency_ms    DOUBLE,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (evaluator, version, event_id)
        )
        """
    )

    con.execute("CREATE SEQUENCE review_queues_seq START 1")
    con.execute(
        """
        CREATE TABLE review_queues (
            queue_id      BIGINT PRIMARY KEY DEFAULT nextval('review_queues_seq'),
            name          VARCHAR NOT NULL,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            created_by    VARCHAR,
            source_kind   VARCHAR NOT NULL,  -- filter, cluster, segment, new_topic, rerun_batch
            source        JSON,              -- the filter, cluster id, segment key, ...
            rubric        VARCHAR NOT NULL,  -- the feedback name its labels get
            rubric_kind   VARCHAR NOT NULL,  -- 'pass_fail' or 'labels'
            labels        VARCHAR[],         -- the choices when rubric_kind = 'labels'
            failure_tags  VARCHAR[],
            instructions  VARCHAR,
            n_requested   BIGINT,
            stratify_by   VARCHAR,           -- NULL, 'model', 'cluster', 'verdict:<evaluator>'
            reviewers_per_item INTEGER NOT NULL DEFAULT 1,
            seed          BIGINT,
            closed_at     TIMESTAMPTZ
        )
        """
    )
    con.execute(
        """
        CREATE TABLE queue_items (
            queue_id      BIGINT NOT NULL,
            position      INTEGER NOT NULL,  -- the order reviewers see items in
            event_id      VARCHAR NOT NULL,
            stratum       VARCHAR,
            reviewers_needed INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (queue_id, event_id)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE queue_skips (
            queue_id      BIGINT NOT NULL,
            event_id      VARCHAR NOT NULL,
            author        VARCHAR NOT NULL,
            ts            TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )

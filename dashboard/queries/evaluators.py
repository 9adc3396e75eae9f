"""Reads behind the Evaluators page: the evaluators and their versions, one version's trust
report (models.judge_trust.summary), the texts of disagreeing events and the evaluator's errors
and unparsed answers. Each takes the connection first; the page calls them through
`dashboard.cache.query`."""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.stored import kept
from models.judge_trust import data, summary


@kept
def evaluator_versions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(name, version, source, kind, n_rows, last_written, latest), newest version first."""
    return data.evaluator_versions(con)


def reviewed_rubrics(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Feedback names people labelled (reviewer rows): the rubrics a judge can be checked on."""
    return data.reviewed_rubrics(con)


@kept
def trust(con: duckdb.DuckDBPyConnection, name: str, version: str) -> summary.Trust | None:
    return summary.trust(con, name, version)


@kept
def event_texts(con: duckdb.DuckDBPyConnection, event_ids: tuple[str, ...]) -> pl.DataFrame:
    """Input and output of these events, in the given order (for disagreements)."""
    return con.sql(
        "SELECT e.event_id, e.ts, e.model, left(e.input_text, 400) AS input_text, "
        "left(e.output_text, 400) AS output_text "
        "FROM (SELECT unnest(?::VARCHAR[]) AS event_id, generate_subscripts(?::VARCHAR[], 1) "
        "AS pos) i JOIN events e USING (event_id) ORDER BY i.pos",
        params=[list(event_ids), list(event_ids)],
    ).pl()


@kept
def problems(
    con: duckdb.DuckDBPyConnection, name: str, version: str, limit: int = 20
) -> pl.DataFrame:
    """The newest errors and unparsed answers of an evaluator version, with their raw text."""
    return con.sql(
        "SELECT event_id, status, left(raw, 600) AS raw, created_at FROM evaluations "
        "WHERE evaluator = ? AND version = ? AND status IN ('error', 'unparsed') "
        "ORDER BY created_at DESC, event_id LIMIT ?",
        params=[name, version, limit],
    ).pl()

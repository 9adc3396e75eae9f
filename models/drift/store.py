"""All reading and writing of analysis results (ingest/migrations/m002_analysis.py), in one place.

The analysis job reads its inputs here, does its slow work without the warehouse, and hands the
results back to `write_results`, which replaces them in one transaction. The embedding cache is
content-addressed (text hash + embedder id), so writing it early is safe: a crash leaves extra
cached vectors, never a half-written analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

# What text of an event is embedded. Keys are the --field choices; values are fixed SQL.
# "output" is output drift: answers that got longer, a new refusal or a new format show as new
# territory even when the questions did not change.
FIELDS = {
    "input": "coalesce(e.input_text, '')",
    "output": "coalesce(e.output_text, '')",
    "input+output": "coalesce(e.input_text, '') || chr(10) || coalesce(e.output_text, '')",
}
# The events an analysis covers: LLM calls with an input, not the playground's reruns.
ELIGIBLE = (
    "e.kind = 'llm' AND e.rerun_of IS NULL AND e.input_text IS NOT NULL "
    "AND length(trim(e.input_text)) > 0"
)
# ... and, for output drift, with an answer (a failed call has none to compare).
_WITH_OUTPUT = " AND e.output_text IS NOT NULL AND length(trim(e.output_text)) > 0"


def eligible_sql(field: str = "input") -> str:
    """The SQL condition on `events e` of the events an analysis of `field` covers."""
    return ELIGIBLE + (_WITH_OUTPUT if field == "output" else "")


def _text_sql(field: str) -> str:
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; use one of {', '.join(FIELDS)}")
    return FIELDS[field]


# The unit the novelty test treats as exchangeable: an event's session, else its user, else
# the event itself (models/drift/novelty.py leaves an event's own group out of its neighbours).
GROUP_SQL = "coalesce(e.session_id, e.user_id, e.event_id)"


def events_frame(con: duckdb.DuckDBPyConnection, field: str) -> pl.DataFrame:
    """event_id, ts, content_hash, assigned (had a cluster before) and group (GROUP_SQL) of
    every eligible event."""
    text = _text_sql(field)
    return con.sql(
        f"SELECT e.event_id, e.ts, md5({text}) AS content_hash, {GROUP_SQL} AS grp, "
        "e.event_id IN (SELECT event_id FROM cluster_members) AS assigned "
        f"FROM events e WHERE {eligible_sql(field)} ORDER BY e.ts, e.event_id"
    ).pl()


def unique_texts(con: duckdb.DuckDBPyConnection, field: str) -> pl.DataFrame:
    """content_hash, text for each distinct text among eligible events."""
    text = _text_sql(field)
    return con.sql(
        f"SELECT md5({text}) AS content_hash, any_value({text}) AS text FROM events e"
        f" WHERE {eligible_sql(field)} GROUP BY 1 ORDER BY 1"
    ).pl()


def count_unassigned(con: duckdb.DuckDBPyConnection, field: str = "input") -> tuple[int, int]:
    """(eligible events without a cluster, assigned events no longer eligible)."""
    eligible = eligible_sql(field)
    new = con.execute(
        f"SELECT count(*) FROM events e WHERE {eligible} AND e.event_id NOT IN "
        "(SELECT event_id FROM cluster_members)"
    ).fetchall()[0][0]
    gone = con.execute(
        "SELECT count(*) FROM cluster_members m WHERE m.event_id NOT IN "
        f"(SELECT e.event_id FROM events e WHERE {eligible})"
    ).fetchall()[0][0]
    return int(new), int(gone)


# -- embedders and the vector cache -------------------------------------------------------


def load_embedder_row(
    con: duckdb.DuckDBPyConnection, kind: str, embedder_id: str | None = None
) -> tuple[str, int, dict[str, Any], bytes | None] | None:
    """The named embedder, else the newest of this kind: (id, dim, params, model bytes)."""
    if embedder_id:
        rows = con.execute(
            "SELECT embedder_id, dim, params, model FROM embedder_models WHERE embedder_id = ?",
            [embedder_id],
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT embedder_id, dim, params, model FROM embedder_models WHERE kind = ?"
            " ORDER BY created_at DESC, embedder_id LIMIT 1",
            [kind],
        ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return row[0], int(row[1]), json.loads(row[2]) if row[2] else {}, row[3]


def save_embedder(
    con: duckdb.DuckDBPyConnection, embedder_id: str, kind: str, dim: int,
    params: dict[str, Any], model: bytes | None,
) -> None:
    con.execute(
        "INSERT INTO embedder_models (embedder_id, kind, dim, params, model) "
        "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM embedder_models WHERE embedder_id = ?)",
        [embedder_id, kind, dim, json.dumps(params), model, embedder_id],
    )


def cached_hashes(con: duckdb.DuckDBPyConnection, embedder_id: str) -> set[str]:
    rows = con.execute(
        "SELECT content_hash FROM embeddings WHERE embedder_id = ?", [embedder_id]
    ).fetchall()
    return {r[0] for r in rows}


def save_vectors(
    con: duckdb.DuckDBPyConnection, embedder_id: str, hashes: list[str], vectors: np.ndarray
) -> None:
    """Add vectors to the cache (skipping hashes already cached), in one transaction."""
    if not hashes:
        return
    frame = pl.DataFrame(
        {"content_hash": hashes, "vector": np.ascontiguousarray(vectors, dtype=np.float32)}
    )
    con.register("new_vectors", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "INSERT INTO embeddings (content_hash, embedder_id, vector) "
            "SELECT n.content_hash, ?, n.vector::FLOAT[] FROM new_vectors n "
            "WHERE n.content_hash NOT IN "
            "(SELECT content_hash FROM embeddings WHERE embedder_id = ?)",
            [embedder_id, embedder_id],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("new_vectors")


def _to_matrix(table: Any, column: str) -> np.ndarray:
    col = table.column(column).combine_chunks()
    if len(col) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return flat.reshape(len(col), -1)


def load_vectors(
    con: duckdb.DuckDBPyConnection, embedder_id: str
) -> tuple[list[str], np.ndarray]:
    """Every cached vector of one embedder, as (hashes, matrix), ordered by hash."""
    table = con.sql(
        "SELECT content_hash, vector FROM embeddings WHERE embedder_id = ? ORDER BY content_hash",
        params=[embedder_id],
    ).to_arrow_table()
    return table.column("content_hash").to_pylist(), _to_matrix(table, "vector")


# -- the current analysis -----------------------------------------------------------------


@dataclass(frozen=True)
class PreviousClusters:
    ids: list[int]
    centroids: np.ndarray
    radii: np.ndarray
    labels: dict[int, str]
    keywords: dict[int, list[str]]
    examples: dict[int, list[str]]
    llm_names: dict[int, str | None]
    first_run: dict[int, int]
    next_id: int
    embedder_id: str


def previous_clusters(con: duckdb.DuckDBPyConnection) -> PreviousClusters | None:
    """The active clusters of the last run (whatever embedder made them)."""
    table = con.sql(
        "SELECT cluster_id, label, keywords, examples, llm_name, centroid, radius, first_run_id,"
        " embedder_id FROM clusters WHERE active ORDER BY cluster_id"
    ).to_arrow_table()
    next_id = con.execute("SELECT coalesce(max(cluster_id), 0) + 1 FROM clusters").fetchall()[0][0]
    if table.num_rows == 0:
        return None
    ids = table.column("cluster_id").to_pylist()
    return PreviousClusters(
        ids=ids,
        centroids=_to_matrix(table, "centroid"),
        radii=np.asarray(table.column("radius").to_pylist(), dtype=np.float32),
        labels=dict(zip(ids, table.column("label").to_pylist(), strict=True)),
        keywords=dict(zip(ids, table.column("keywords").to_pylist(), strict=True)),
        examples=dict(zip(ids, table.column("examples").to_pylist(), strict=True)),
        llm_names=dict(zip(ids, table.column("llm_name").to_pylist(), strict=True)),
        first_run=dict(zip(ids, table.column("first_run_id").to_pylist(), strict=True)),
        next_id=int(next_id),
        embedder_id=str(table.column("embedder_id")[0]),
    )


def current_members(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("SELECT event_id, cluster_id FROM cluster_members").pl()


def last_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    rows = con.execute(
        "SELECT run_id, embedder_id, field, seed, params FROM analysis_runs "
        "ORDER BY run_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return {
        "run_id": row[0], "embedder_id": row[1], "field": row[2], "seed": row[3],
        "params": json.loads(row[4]) if row[4] else {},
    }


def cached_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT name_key, name FROM cluster_names").fetchall())


def map_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("SELECT event_id, x, y, fitted FROM map_points").pl()


@dataclass(frozen=True)
class AnalysisOutput:
    """Everything one run writes; `write_results` swaps it in atomically."""

    run: dict[str, Any]
    clusters: pl.DataFrame  # cluster_id, label, keywords, examples, llm_name, size, centroid, ...
    members: pl.DataFrame  # event_id, cluster_id, similarity
    map_points: pl.DataFrame  # event_id, x, y, fitted (the whole map, replaced)
    drift_overall: dict[str, Any] | None
    drift_clusters: pl.DataFrame | None
    new_names: dict[str, str] | None = None  # cache key -> LLM-written name
    names_model: str | None = None


def write_results(con: duckdb.DuckDBPyConnection, out: AnalysisOutput) -> int:
    """Replace the current analysis with `out` in one transaction; returns the new run_id."""
    r = out.run
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = con.execute(
            "INSERT INTO analysis_runs (started_at, embedder_id, field, seed, n_events, "
            "n_new_events, n_embedded, n_clusters, mode, params, timings, embed_cost_usd) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
            [r["started_at"], r["embedder_id"], r["field"], r["seed"], r["n_events"],
             r["n_new_events"], r["n_embedded"], r["n_clusters"], r["mode"],
             json.dumps(r.get("params", {})), json.dumps(r.get("timings", {})),
             r.get("embed_cost_usd")],
        ).fetchall()[0][0]
        clusters = out.clusters.with_columns(
            pl.col("first_run_id").fill_null(run_id), pl.lit(run_id).alias("last_run_id")
        )
        con.register("new_clusters", clusters)
        # Clusters of this run become active; older ones stay as history, inactive.
        con.execute("UPDATE clusters SET active = false")
        con.execute(
            "DELETE FROM clusters WHERE cluster_id IN (SELECT cluster_id FROM new_clusters)"
        )
        con.execute(
            "INSERT INTO clusters (cluster_id, label, keywords, examples, llm_name, size, "
            "centroid, radius, embedder_id, active, first_run_id, last_run_id) "
            "SELECT cluster_id, label, keywords, examples, llm_name, size, centroid::FLOAT[], "
            "radius, embedder_id, true, first_run_id, last_run_id FROM new_clusters"
        )
        con.register("new_members", out.members)
        con.execute("DELETE FROM cluster_members")
        con.execute(
            "INSERT INTO cluster_members SELECT event_id, cluster_id, similarity FROM new_members"
        )
        con.register("new_map", out.map_points)
        con.execute("DELETE FROM map_points")
        con.execute("INSERT INTO map_points SELECT event_id, x, y, fitted FROM new_map")
        con.execute("DELETE FROM drift_overall")
        con.execute("DELETE FROM drift_clusters")
        if out.drift_overall is not None:
            d = out.drift_overall
            con.execute(
                "INSERT INTO drift_overall VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, d["reference_start"], d["reference_end"], d["current_start"],
                 d["current_end"], d["method"], d["statistic"], d["p_value"], d["drifted"],
                 d["n_reference"], d["n_current"]],
            )
        if out.drift_clusters is not None and out.drift_clusters.height:
            con.register("new_drift", out.drift_clusters)
            con.execute(
                "INSERT INTO drift_clusters SELECT ?, cluster_id, n_reference, n_current, "
                "share_reference, share_current, p_value, p_adjusted, status FROM new_drift",
                [run_id],
            )
        for key, name in (out.new_names or {}).items():
            con.execute(
                "INSERT INTO cluster_names (name_key, model, name) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING", [key, out.names_model or "", name],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("new_clusters", "new_members", "new_map", "new_drift"):
            try:
                con.unregister(name)
            except Exception:  # noqa: BLE001 - not registered on an early failure
                pass
    return int(run_id)


# -- inputs of the drift statistics -------------------------------------------------------


def window_counts(
    con: duckdb.DuckDBPyConnection, start: Any, end: Any
) -> dict[int, int]:
    """Events per cluster with start <= ts < end (timestamps)."""
    rows = con.execute(
        "SELECT m.cluster_id, count(*) FROM cluster_members m JOIN events e USING (event_id) "
        "WHERE e.ts >= ? AND e.ts < ? GROUP BY 1",
        [start, end],
    ).fetchall()
    return {int(c): int(n) for c, n in rows}


def window_vectors(
    con: duckdb.DuckDBPyConnection, embedder_id: str, field: str, start: Any, end: Any,
    limit: int, seed: int,
) -> np.ndarray:
    """Vectors of a seeded random sample (at most `limit`) of the window's analysed events."""
    text = _text_sql(field)
    table = con.sql(
        f"WITH s AS (SELECT e.event_id, md5({text}) AS h FROM events e "
        f"JOIN cluster_members m USING (event_id) WHERE e.ts >= ? AND e.ts < ? "
        f"ORDER BY hash(e.event_id || ?::VARCHAR), e.event_id LIMIT ?) "
        f"SELECT v.vector FROM s JOIN embeddings v ON v.content_hash = s.h "
        f"AND v.embedder_id = ? ORDER BY s.event_id",
        params=[start, end, seed, limit, embedder_id],
    ).to_arrow_table()
    return _to_matrix(table, "vector")


def window_sample(
    con: duckdb.DuckDBPyConnection, embedder_id: str, field: str, start: Any, end: Any,
    limit: int, seed: int,
) -> tuple[list[str], list[str], np.ndarray]:
    """(event ids, texts, vectors, groups) of a seeded random sample (at most `limit`) of the
    window's analysed events: the rows the novelty test sees, so a flagged row names its event.
    The group of an event is its session (else its user, else itself): GROUP_SQL."""
    text = _text_sql(field)
    table = con.sql(
        f"WITH s AS (SELECT e.event_id, md5({text}) AS h, {text} AS t, {GROUP_SQL} AS g "
        f"FROM events e JOIN cluster_members m USING (event_id) WHERE e.ts >= ? AND e.ts < ? "
        f"ORDER BY hash(e.event_id || ?::VARCHAR), e.event_id LIMIT ?) "
        f"SELECT s.event_id, s.t, v.vector, s.g FROM s JOIN embeddings v ON v.content_hash = s.h "
        f"AND v.embedder_id = ? ORDER BY s.event_id",
        params=[start, end, seed, limit, embedder_id],
    ).to_arrow_table()
    return (table.column("event_id").to_pylist(), table.column("t").to_pylist(),
            _to_matrix(table, "vector"), table.column("g").to_pylist())


def active_cluster_info(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT cluster_id, coalesce(llm_name, label) AS label, keywords, examples, size "
        "FROM clusters WHERE active ORDER BY cluster_id"
    ).pl()

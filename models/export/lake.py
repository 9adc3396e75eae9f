"""The Parquet lake: the warehouse's tables as Hive-partitioned Parquet, exported incrementally.

Layout (docs/export.md): `DIR/<table>/day=YYYY-MM-DD/part-<run>-c<chunk>-<i>.parquet`, and
`DIR/_reviewdeck_export.json`, the manifest, written last. DuckDB, Polars and Spark read each
table folder as it is (`hive_partitioning`).

Two kinds of table:
- **append** tables only ever gain rows (events, feedback, rerun_judgements, evaluations).
  Each run exports the rows whose stamp (`ingested_at`, `ts`, `created_at`: all the writer's
  transaction time, DuckDB `now()`) is past the manifest's watermark, up to the newest stamp
  seen when the run began. A writer holds the file while it commits, so no row with an older
  stamp can appear after we read it: nothing is missed, nothing exported twice. Late feedback
  for an old event lands as a new file in that event's day.
- **snapshot** tables are rewritten in place by their jobs (rerun_batches, rerun_items update
  statuses; `reviewdeck analyze` swaps clusters and cluster_members; datasets and review queues
  are deleted or closed). When one changed since the
  last run (an order-free hash of its rows), the whole table is written again with the run's
  number in `export_run`; readers take the rows of its highest `export_run`.

Files are written under `DIR/_staging/` and moved into place, then the manifest is replaced
atomically; files of a run that never reached the manifest (a crash) are removed at the next
start. Nothing is ever overwritten. Each chunk is copied on its own short read-only connection,
so a writer waits at most one chunk's copy for the file. Secret-bearing columns are scrubbed
(`models.export.redact`); JSON columns are written as plain strings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest import secrets as redact
from ingest.db import connect
from ingest.errors import ReviewdeckError

MANIFEST = "_reviewdeck_export.json"
LOCK = "_reviewdeck_export.lock"
STAGING = "_staging"
FORMAT = "reviewdeck-lake/1"
CHUNK_ROWS = 250_000
_PART_RE = re.compile(r"^part-(\d{6})-")
_EVENT_DAY = "(SELECT CAST(x.ts AS DATE) FROM events x WHERE x.event_id = t.event_id LIMIT 1)"


class LakeError(ReviewdeckError):
    """The lake folder cannot be used (a foreign manifest, another export writing it)."""


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # 'append' or 'snapshot'
    day: str  # SQL over `t`: the partition day
    stamp: str | None = None  # append tables: the watermark column
    joins: str = ""


TABLES: tuple[Table, ...] = (
    Table("events", "append", "CAST(t.ts AS DATE)", "ingested_at"),
    # Feedback and evaluations sit in their event's day, so a day's files join on one partition;
    # a row whose event is not loaded yet sits in its own day.
    Table("feedback", "append",
          f"coalesce({_EVENT_DAY}, CAST(coalesce(t.ts, t.ingested_at) AS DATE))", "ingested_at"),
    Table("rerun_judgements", "append", "CAST(t.ts AS DATE)", "ts"),
    Table("evaluations", "append", f"coalesce({_EVENT_DAY}, CAST(t.created_at AS DATE))",
          "created_at"),
    Table("rerun_batches", "snapshot", "CAST(t.created_at AS DATE)"),
    Table("rerun_items", "snapshot", "CAST(b.created_at AS DATE)",
          joins="LEFT JOIN rerun_batches b ON b.batch_id = t.batch_id"),
    Table("clusters", "snapshot", "CAST(r.finished_at AS DATE)",
          joins="LEFT JOIN (SELECT max(finished_at) AS finished_at, max(run_id) AS run_id"
                " FROM analysis_runs) r ON TRUE"),
    Table("cluster_members", "snapshot", "CAST(r.finished_at AS DATE)",
          joins="LEFT JOIN (SELECT max(finished_at) AS finished_at, max(run_id) AS run_id"
                " FROM analysis_runs) r ON TRUE"),
    # Datasets and review queues can be deleted or closed: snapshots, in the day they were made.
    Table("datasets", "snapshot", "CAST(t.created_at AS DATE)"),
    Table("dataset_events", "snapshot", "CAST(d.created_at AS DATE)",
          joins="LEFT JOIN datasets d ON d.dataset_id = t.dataset_id"),
    Table("review_queues", "snapshot", "CAST(t.created_at AS DATE)"),
    Table("queue_items", "snapshot", "CAST(q.created_at AS DATE)",
          joins="LEFT JOIN review_queues q ON q.queue_id = t.queue_id"),
)
# Columns scrubbed as text besides every JSON column: error messages and raw judge answers.
_TEXT_SCRUB = {"error_message", "raw"}


@dataclass(frozen=True)
class TableExport:
    name: str
    kind: str
    rows: int
    files: int
    skipped: str | None = None  # why nothing was written ('unchanged', 'no new rows', ...)


@dataclass(frozen=True)
class LakeExport:
    out_dir: Path
    run: int
    tables: tuple[TableExport, ...]
    removed_orphans: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_dict(self) -> dict:
        return {
            "out": str(self.out_dir), "run": self.run, "rows": self.rows,
            "removed_orphans": self.removed_orphans,
            "tables": {t.name: {"kind": t.kind, "rows": t.rows, "files": t.files,
                                "skipped": t.skipped} for t in self.tables},
        }


@dataclass
class _Manifest:
    last_run: int = 0
    tables: dict[str, dict] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_manifest(out_dir: Path) -> _Manifest:
    path = out_dir / MANIFEST
    if not path.exists():
        return _Manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LakeError(f"{path}: not a readable export manifest ({exc}); move it away to "
                        "start a new lake") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LakeError(f"{path}: not a reviewdeck lake manifest (format {FORMAT} expected)")
    return _Manifest(int(data["last_run"]), dict(data["tables"]), list(data["runs"]))


def _write_manifest(out_dir: Path, m: _Manifest) -> None:
    tmp = out_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "last_run": m.last_run, "tables": m.tables,
                               "runs": m.runs}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)


@contextlib.contextmanager
def _lake_lock(out_dir: Path) -> Iterator[None]:
    with open(out_dir / LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LakeError(f"another export is writing {out_dir}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_orphans(out_dir: Path, last_run: int) -> int:
    """Delete files of runs the manifest never recorded (an export killed mid-way)."""
    shutil.rmtree(out_dir / STAGING, ignore_errors=True)
    removed = 0
    for table in TABLES:
        for path in (out_dir / table.name).glob("**/part-*.parquet"):
            m = _PART_RE.match(path.name)
            if m and int(m.group(1)) > last_run:
                path.unlink()
                removed += 1
    return removed


def _select(con, table: Table, run: int) -> str:
    cols = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table.name],
    ).fetchall()
    exprs = []
    for name, dtype in cols:
        ref = f't."{name}"'
        if dtype == "JSON":
            exprs.append(f'{redact.json_sql(ref)} AS "{name}"')
        elif name in _TEXT_SCRUB and dtype == "VARCHAR":
            exprs.append(f'{redact.text_sql(ref)} AS "{name}"')
        else:
            exprs.append(ref)
    if table.name in ("clusters", "cluster_members"):
        exprs.append("r.run_id AS analysis_run_id")
    if table.kind == "snapshot":
        exprs.append(f"{int(run)} AS export_run")
    exprs.append(f"{table.day} AS day")
    return f"SELECT {', '.join(exprs)} FROM {table.name} AS t {table.joins}"


def _copy(con, sql: str, params: list, target: Path, pattern: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({sql}) TO {_literal(str(target))} (FORMAT parquet, PARTITION_BY (day), "
        f"FILENAME_PATTERN {_literal(pattern)}, OVERWRITE_OR_IGNORE true)",
        params,
    )


def _existing_tables(db_path: Path) -> set[str]:
    with connect(db_path, read_only=True) as con:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()}


def _chunks(groups: list[tuple[int, int]], lo: int, chunk_rows: int) -> list[tuple[int, int]]:
    """(lo, hi] stamp ranges of about chunk_rows rows each; one stamp is never split."""
    out: list[tuple[int, int]] = []
    start, n = lo, 0
    for stamp, count in groups:
        n += count
        if n >= chunk_rows:
            out.append((start, stamp))
            start, n = stamp, 0
    if n:
        out.append((start, groups[-1][0]))
    return out


def _export_append(db_path: Path, table: Table, staging: Path, run: int, state: dict,
                   chunk_rows: int) -> tuple[int, dict]:
    lo = int(state.get("watermark_us", -(2**62)))
    stamp = f"epoch_us(t.{table.stamp})"
    with connect(db_path, read_only=True) as con:
        groups = con.execute(
            f"SELECT {stamp} AS s, count(*) FROM {table.name} t WHERE {stamp} > ?"
            " GROUP BY 1 ORDER BY 1", [lo],
        ).fetchall()
    rows = 0
    for k, (a, b) in enumerate(_chunks(groups, lo, chunk_rows)):
        with connect(db_path, read_only=True) as con:
            sql = _select(con, table, run) + f" WHERE {stamp} > ? AND {stamp} <= ?"
            _copy(con, sql, [a, b], staging / table.name, f"part-{run:06d}-c{k:04d}-{{i}}")
        rows += sum(c for s, c in groups if a < s <= b)
    if not groups:
        return 0, state
    hi = groups[-1][0]
    wm = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=hi)
    return rows, {"kind": "append", "stamp": table.stamp, "watermark_us": hi,
                  "watermark": wm.isoformat(), "rows": int(state.get("rows", 0)) + rows}


def _export_snapshot(db_path: Path, table: Table, staging: Path, run: int, state: dict
                     ) -> tuple[int, dict]:
    with connect(db_path, read_only=True) as con:
        n, fp = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {table.name} t"
        ).fetchone()
        fingerprint = f"{n}:{fp}"
        if fingerprint == state.get("fingerprint"):
            return -1, state
        if n:
            _copy(con, _select(con, table, run), [], staging / table.name,
                  f"part-{run:06d}-c0000-{{i}}")
    return int(n), {"kind": "snapshot", "fingerprint": fingerprint, "export_run": run,
                    "rows": int(n)}


def _publish(staging: Path, out_dir: Path) -> dict[str, int]:
    """Move staged files into the lake; files per table."""
    files: dict[str, int] = {}
    for path in sorted(staging.glob("*/day=*/*.parquet")):
        rel = path.relative_to(staging)
        dest = out_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():  # cannot happen with run-numbered names; never overwrite regardless
            raise LakeError(f"{dest} already exists; the lake's manifest does not match its files")
        os.replace(path, dest)
        files[rel.parts[0]] = files.get(rel.parts[0], 0) + 1
    return files


def export_lake(db_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                chunk_rows: int = CHUNK_ROWS) -> LakeExport:
    """Export what is new in the warehouse into the lake at out_dir (created if missing)."""
    db_path, out_dir = Path(db_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _lake_lock(out_dir):
        manifest = read_manifest(out_dir)
        removed = _remove_orphans(out_dir, manifest.last_run)
        run = manifest.last_run + 1
        staging = out_dir / STAGING / f"run-{run:06d}"
        staging.mkdir(parents=True)
        started = dt.datetime.now(dt.UTC)
        present = _existing_tables(db_path)
        results: list[tuple[Table, int]] = []
        new_state = dict(manifest.tables)
        for table in TABLES:
            if table.name not in present:
                results.append((table, -2))
                continue
            state = manifest.tables.get(table.name, {})
            if table.kind == "append":
                rows, new = _export_append(db_path, table, staging, run, state, chunk_rows)
            else:
                rows, new = _export_snapshot(db_path, table, staging, run, state)
            new_state[table.name] = new
            results.append((table, rows))
        files = _publish(staging, out_dir)
        shutil.rmtree(out_dir / STAGING, ignore_errors=True)
        tables = tuple(
            TableExport(t.name, t.kind, max(rows, 0), files.get(t.name, 0),
                        skipped={-2: "not in this warehouse", -1: "unchanged"}.get(rows)
                        or ("no new rows" if rows == 0 else None))
            for t, rows in results
        )
        if not files and new_state == manifest.tables:
            return LakeExport(out_dir, manifest.last_run, tables, removed)  # nothing new
        manifest.last_run = run
        manifest.tables = new_state
        manifest.runs.append({
            "run": run, "started_at": started.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "tables": {t.name: {"rows": t.rows, "files": t.files} for t in tables if t.rows},
        })
        _write_manifest(out_dir, manifest)
    return LakeExport(out_dir, run, tables, removed)

"""The loader every format goes through: stage, dedup, then one short transaction per file.

A file is parsed and validated into a private in-memory DuckDB (the *staging* database) while
the warehouse is untouched and unlocked. Each chunk's events leave staging at once for a
zstd Parquet file in a temporary folder (an event is ~2 KB of text: a million of them kept in
memory would spill and be copied twice); staging keeps only ids, feedback and rejects. Only
then is the warehouse opened (ingest.db.connect, which waits for other writers) and the file
merged in ONE transaction, reading the Parquet files directly: events, feedback, rejects, its
`ingested_files` row and the derived tables. A kill at any moment leaves the
warehouse as it was before that file; rerunning loads it with exact counts, and a file already
loaded is skipped by content hash.

Dedup rule (docs/native-format.md): an id already in the warehouse, or earlier in the same file,
with identical content is a duplicate; with different content the first one wins and the later
row is a reject "duplicate event_id with different content" (feedback likewise).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest import secrets
from ingest.db import connect
from ingest.errors import InputError
from ingest.load import derived, native, native_parse, parallel_read
from ingest.load.parsed import Staged, arrow_rows, combine, insert_staged
from ingest.load.read import ChunkReader, Source, file_sha256, prefetched, read_all
from ingest.records import ParsedFile

STAGING_MEMORY = "600MB"
WAREHOUSE_MEMORY = "500MB"
TRANSFER_ROWS = 16384
PART_COMPRESSION = "zstd"


@dataclass(frozen=True)
class FileResult:
    """What happened to one input file."""

    path: str
    source_format: str
    skipped: bool  # already ingested (same content hash)
    read: int = 0
    events_inserted: int = 0
    feedback_inserted: int = 0
    duplicate: int = 0
    rejected: int = 0
    seconds: float = 0.0

    @property
    def inserted(self) -> int:
        return self.events_inserted + self.feedback_inserted


def _hash_sql(columns: tuple[str, ...]) -> str:
    pack = ", ".join(f"{c} := {c}" for c in columns)
    return f"md5(to_json(struct_pack({pack})))"


EVENT_HASH = _hash_sql(native.EVENT_COLUMNS)
FEEDBACK_HASH = _hash_sql(tuple(c for c in native.FEEDBACK_COLUMNS))


def _spill_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"reviewdeck-staging-{os.getpid()}"


def _remove_stale_spill_dirs() -> None:
    """Spill folders of staging databases whose process died (a kill -9 cannot clean up)."""
    for folder in Path(tempfile.gettempdir()).glob("reviewdeck-staging-*"):
        try:
            os.kill(int(folder.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def _close_staging(stage: duckdb.DuckDBPyConnection) -> None:
    stage.close()
    shutil.rmtree(_spill_dir(), ignore_errors=True)


def staging_connection() -> duckdb.DuckDBPyConnection:
    _remove_stale_spill_dirs()
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{STAGING_MEMORY}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{_spill_dir()}'")
    native.create_staging_tables(con)
    # Every staged event's id (its row lives in a Parquet part), and the lines dedup dropped.
    con.execute("CREATE TABLE s_event_keys (line_no BIGINT, event_id VARCHAR)")
    con.execute("CREATE TABLE s_event_drops (line_no BIGINT)")
    con.execute("CREATE TABLE s_event_parts (path VARCHAR)")
    return con


def flush_events(stage: duckdb.DuckDBPyConnection) -> None:
    """Move the events staged so far (s_events) to new Parquet parts; keep their ids.

    Two parts, written at once from two cursors: a chunk's rows sit in one row group of
    s_events, which DuckDB scans with one thread, so one COPY would leave a core idle.
    """
    n = stage.execute("SELECT count(*) FROM s_event_parts").fetchall()[0][0]
    _spill_dir().mkdir(parents=True, exist_ok=True)
    cols = ", ".join(native.EVENT_COLUMNS)
    stage.execute("INSERT INTO s_event_keys SELECT line_no, event_id FROM s_events")
    lo, hi = stage.execute("SELECT min(line_no), max(line_no) FROM s_events").fetchall()[0]
    if lo is not None:
        mid = (lo + hi) // 2
        jobs = [(lo, mid, _spill_dir() / f"events-{n:05d}.parquet"),
                (mid + 1, hi, _spill_dir() / f"events-{n + 1:05d}.parquet")]  # fmt: skip
        errors: list[BaseException] = []

        def write(first: int, last: int, path: Path) -> None:
            cur = stage.cursor()
            try:
                cur.execute(
                    f"COPY (SELECT line_no, {cols} FROM s_events WHERE line_no BETWEEN "
                    f"{first} AND {last}) TO '{path}' "
                    f"(FORMAT parquet, COMPRESSION {PART_COMPRESSION}, ROW_GROUP_SIZE 16384)"
                )
            except BaseException as exc:  # re-raised below, in the loading thread
                errors.append(exc)
            finally:
                cur.close()

        threads = [threading.Thread(target=write, args=job) for job in jobs[1:]]
        for t in threads:
            t.start()
        write(*jobs[0])
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        stage.executemany("INSERT INTO s_event_parts VALUES (?)", [[str(j[2])] for j in jobs])
    # A new empty table, not DELETE: deleted rows of an in-memory table keep their memory.
    stage.execute("CREATE OR REPLACE TABLE s_events AS FROM s_events LIMIT 0")


def _parts(stage: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in stage.execute("SELECT path FROM s_event_parts ORDER BY path").fetchall()]


def _typed_event_columns(stage: duckdb.DuckDBPyConnection) -> str:
    """line_no and the event columns cast to the staging types (JSON above all: the dedup hash
    of a JSON value differs from that of the same text as VARCHAR)."""
    types = dict(
        stage.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 's_events'"
        ).fetchall()
    )
    return "line_no, " + ", ".join(f"CAST({c} AS {types[c]}) AS {c}" for c in native.EVENT_COLUMNS)


def _events_view(stage: duckdb.DuckDBPyConnection, events: pa.Table | None = None) -> None:
    """`s_events_all`: every staged event not dropped by dedup, read back from the parts (or
    from the Arrow table `_rd_events` registered on `stage`, for foreign files)."""
    if events is not None:
        stage.execute(
            f"CREATE OR REPLACE TEMP VIEW s_events_all AS SELECT {_typed_event_columns(stage)} "
            "FROM _rd_events WHERE line_no NOT IN (SELECT line_no FROM s_event_drops)"
        )
        return
    parts = _parts(stage)
    if not parts:
        stage.execute("CREATE OR REPLACE TEMP VIEW s_events_all AS SELECT * FROM s_events")
        return
    files = "[" + ", ".join(native._q(p) for p in parts) + "]"
    stage.execute(
        f"CREATE OR REPLACE TEMP VIEW s_events_all AS SELECT * FROM read_parquet({files}) "
        "WHERE line_no NOT IN (SELECT line_no FROM s_event_drops)"
    )


def _parse_native_chunk(stage: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    stage.register("_rd_chunk", table)
    try:
        try:
            stage.execute("BEGIN")
            lines = table.column("line_no")
            native_parse.parse_chunk(stage, "_rd_chunk", lines[0].as_py(), lines[-1].as_py())
            stage.execute("COMMIT")
        except duckdb.Error:
            # A line DuckDB chokes on in bulk must not cost its neighbours: redo this chunk one
            # line at a time and reject only the lines that still fail.
            stage.execute("ROLLBACK")
            _parse_lines_one_by_one(stage, table)
    finally:
        stage.unregister("_rd_chunk")


def _parse_lines_one_by_one(stage: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    for i in range(table.num_rows):
        one = table.slice(i, 1)
        stage.register("_rd_one", one)
        try:
            stage.execute("BEGIN")
            n = one.column("line_no")[0].as_py()
            native_parse.parse_chunk(stage, "_rd_one", n, n)
            stage.execute("COMMIT")
        except duckdb.Error as exc:
            stage.execute("ROLLBACK")
            line_no, line = one.column(0)[0].as_py(), one.column(1)[0].as_py()
            stage.execute(
                "INSERT INTO s_rejects VALUES (?, ?, ?)",
                [
                    line_no,
                    f"cannot be parsed: {str(exc).splitlines()[0][:200]}",
                    line[: native.REJECT_TEXT_CHARS],
                ],
            )
        finally:
            stage.unregister("_rd_one")


def _rows_and_ids(table: str) -> tuple[str, str]:
    """Where a staged table's full rows are read, and where its ids are counted (cheaply)."""
    return ("s_events_all", "s_event_keys") if table == "s_events" else (table, table)


def _dedup_within(stage: duckdb.DuckDBPyConnection, table: str, key: str, hash_sql: str) -> int:
    """Keep the first row of each id; later copies are duplicates or rejects. Returns dups."""
    rows, ids = _rows_and_ids(table)
    repeated = stage.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {ids}").fetchall()[0][0]
    if not repeated:
        return 0
    order = "line_no, pos" if table == "s_feedback" else "line_no"
    stage.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _later AS
        SELECT * FROM (
            SELECT line_no, {"pos" if table == "s_feedback" else "0"} AS pos, {key} AS id,
                   {hash_sql} AS h,
                   first_value({hash_sql}) OVER (PARTITION BY {key} ORDER BY {order}) AS first_h,
                   row_number() OVER (PARTITION BY {key} ORDER BY {order}) AS rn
            FROM {rows}
            WHERE {key} IN (SELECT {key} FROM {ids} GROUP BY {key} HAVING count(*) > 1))
        WHERE rn > 1
        """
    )
    return _drop_later(stage, table, key)


def _drop_later(stage: duckdb.DuckDBPyConnection, table: str, key: str) -> int:
    """Remove the rows listed in _later (id, line_no, pos, h, first_h): dup or reject each."""
    rows, _ = _rows_and_ids(table)
    pos = "pos" if table == "s_feedback" else "0"
    stage.execute(
        f"""
        INSERT INTO s_rejects
        SELECT l.line_no, 'duplicate {key} with different content', rd_clip(to_json(t))
        FROM _later l JOIN {rows} t
            ON t.line_no = l.line_no AND {"t.pos" if pos == "pos" else "0"} = l.pos
        WHERE l.h <> l.first_h
        """
    )
    dups = stage.execute("SELECT count(*) FROM _later WHERE h = first_h").fetchall()[0][0]
    if table == "s_events":
        # The rows stay in their Parquet part; s_events_all and the merge skip dropped lines.
        stage.execute("INSERT INTO s_event_drops SELECT DISTINCT line_no FROM _later")
        stage.execute("DELETE FROM s_event_keys WHERE line_no IN (SELECT line_no FROM _later)")
        return dups
    stage.execute(
        f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _later l "
        f"WHERE l.line_no = t.line_no AND l.pos = {'t.pos' if pos == 'pos' else '0'})"
    )
    return dups


def _dedup_against(
    con: duckdb.DuckDBPyConnection,
    stage: duckdb.DuckDBPyConnection,
    table: str,
    target: str,
    key: str,
    hash_sql: str,
) -> int:
    """Rows whose id the warehouse already holds: duplicates or rejects (the warehouse wins)."""
    rows, ids_table = _rows_and_ids(table)
    ids = stage.sql(f"SELECT DISTINCT {key} AS id FROM {ids_table}").to_arrow_table()
    con.register("_rd_ids", ids)
    try:
        existing = con.sql(
            f"SELECT {key} AS id, {hash_sql} AS h FROM {target} "
            f"WHERE {key} IN (SELECT id FROM _rd_ids)"
        ).to_arrow_table()
    finally:
        con.unregister("_rd_ids")
    if existing.num_rows == 0:
        return 0
    stage.register("_rd_existing", existing)
    try:
        pos = "pos" if table == "s_feedback" else "0"
        stage.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _later AS
            SELECT t.line_no, {pos} AS pos, t.{key} AS id, {hash_sql} AS h, x.h AS first_h
            FROM {rows} t JOIN _rd_existing x ON x.id = t.{key}
            """
        )
    finally:
        stage.unregister("_rd_existing")
    return _drop_later(stage, table, key)


# Columns where a logging library may have put a key (ingest/secrets.py), scrubbed on insert.
_SCRUBBED = {
    "params": f"{secrets.json_sql('params', guarded=True)} AS params",
    "raw": f"{secrets.json_sql('raw', guarded=True)} AS raw",
    "error_message": f"{secrets.text_sql('error_message')} AS error_message",
}
_SCRUBBED_REJECT = secrets.text_sql(secrets.by_key_sql("raw_text"))


def _insert_events(
    con: duckdb.DuckDBPyConnection,
    stage: duckdb.DuckDBPyConnection,
    file_id: int,
    events: pa.Table | None = None,
) -> None:
    """Staged events into the warehouse, read by the warehouse straight from the Parquet parts
    (or from the foreign file's Arrow table)."""
    cols = ", ".join(native.EVENT_COLUMNS)
    select = ", ".join(_SCRUBBED.get(c, c) for c in native.EVENT_COLUMNS)
    if events is not None:
        con.register("_rd_events", events)
        source = "_rd_events"
    else:
        parts = _parts(stage)
        if not parts:
            return
        source = "read_parquet([" + ", ".join(native._q(p) for p in parts) + "])"
    drops = stage.sql("SELECT line_no FROM s_event_drops").to_arrow_table()
    where = ""
    if drops.num_rows:
        con.register("_rd_drops", drops)
        where = "WHERE line_no NOT IN (SELECT line_no FROM _rd_drops)"
    try:
        con.execute(
            f"INSERT INTO events ({cols}, file_id) SELECT {select}, ? FROM {source} {where}",
            [file_id],
        )
    finally:
        if drops.num_rows:
            con.unregister("_rd_drops")
        if events is not None:
            con.unregister("_rd_events")


def _stream(stage: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    return stage.sql(sql).to_arrow_reader(TRANSFER_ROWS)


def merge(
    db_path: str | os.PathLike[str],
    stage: duckdb.DuckDBPyConnection,
    *,
    label: str,
    content_hash: str,
    size_bytes: int | None,
    source_format: str,
    lines_read: int,
    started_at: datetime,
    t0: float,
    events: pa.Table | None = None,
) -> FileResult:
    """Merge a staged file into the warehouse in one transaction (the only time we hold it).
    `events`: a foreign file's events, as registered on `stage` as _rd_events (load_staged)."""
    _events_view(stage, events)
    dups = _dedup_within(stage, "s_events", "event_id", EVENT_HASH)
    dups += _dedup_within(stage, "s_feedback", "feedback_id", FEEDBACK_HASH)
    fb_cols = ", ".join(native.FEEDBACK_COLUMNS)
    with connect(db_path) as con:
        con.execute(f"SET memory_limit = '{WAREHOUSE_MEMORY}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("BEGIN TRANSACTION")
        try:
            if con.execute(
                "SELECT 1 FROM ingested_files WHERE content_hash = ?", [content_hash]
            ).fetchall():
                con.execute("ROLLBACK")
                return FileResult(label, source_format, skipped=True, seconds=time.monotonic() - t0)
            dups += _dedup_against(con, stage, "s_events", "events", "event_id", EVENT_HASH)
            dups += _dedup_against(
                con, stage, "s_feedback", "feedback", "feedback_id", FEEDBACK_HASH
            )
            file_id = con.execute("SELECT nextval('ingested_files_seq')").fetchall()[0][0]
            n_ev = stage.execute("SELECT count(*) FROM s_event_keys").fetchall()[0][0]
            n_fb = stage.execute("SELECT count(*) FROM s_feedback").fetchall()[0][0]
            n_rej = stage.execute("SELECT count(*) FROM s_rejects").fetchall()[0][0]
            if n_ev:
                _insert_events(con, stage, file_id, events)
            if n_fb:
                con.register("_rd_feedback", _stream(stage, f"SELECT {fb_cols} FROM s_feedback"))
                try:
                    con.execute(
                        f"INSERT INTO feedback ({fb_cols}, file_id) "
                        f"SELECT {fb_cols}, ? FROM _rd_feedback",
                        [file_id],
                    )
                finally:
                    con.unregister("_rd_feedback")
            if n_rej:
                con.register(
                    "_rd_rejects",
                    _stream(
                        stage, "SELECT line_no, reason, raw_text FROM s_rejects ORDER BY line_no"
                    ),
                )
                try:
                    con.execute(
                        "INSERT INTO rejects (file_id, path, line_no, reason, raw_text) "
                        f"SELECT ?, ?, line_no, reason, {_SCRUBBED_REJECT} FROM _rd_rejects",
                        [file_id, label],
                    )
                finally:
                    con.unregister("_rd_rejects")
            con.execute(
                "INSERT INTO ingested_files (file_id, path, content_hash, size_bytes, "
                "source_format, lines_read, events_inserted, feedback_inserted, duplicates, "
                "rejected, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    file_id,
                    label,
                    content_hash,
                    size_bytes,
                    source_format,
                    lines_read,
                    n_ev,
                    n_fb,
                    dups,
                    n_rej,
                    started_at,
                ],
            )
            derived.refresh(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return FileResult(
        label, source_format, False, lines_read, n_ev, n_fb, dups, n_rej, time.monotonic() - t0
    )


def known_hashes(db_path: str | os.PathLike[str]) -> dict[int | None, set[str]]:
    """Content hashes already loaded, by file size, so an unchanged big file is skipped unread."""
    with connect(db_path) as con:
        rows = con.execute("SELECT size_bytes, content_hash FROM ingested_files").fetchall()
    out: dict[int | None, set[str]] = {}
    for size, h in rows:
        out.setdefault(size, set()).add(h)
    return out


def load_native(
    db_path: str | os.PathLike[str],
    src: Source,
    *,
    on_bytes: Callable[[int], None] | None = None,
    chunk_bytes: int | None = None,
) -> FileResult:
    """Load one native JSONL source (the fast path)."""
    t0 = time.monotonic()
    started = datetime.now().astimezone()
    stage = staging_connection()
    try:
        reader = ChunkReader(src, on_bytes=on_bytes)
        if chunk_bytes:
            reader.chunk_bytes = chunk_bytes
        for table in prefetched(iter(reader)):
            _parse_native_chunk(stage, table)
            native_parse.finish(stage)  # this chunk's embedded feedback, while its events are here
            flush_events(stage)
        read = _lines_read(stage)
        return merge(
            db_path,
            stage,
            label=src.label,
            content_hash=reader.sha256,
            size_bytes=src.size(),
            source_format="native",
            lines_read=read,
            started_at=started,
            t0=t0,
        )
    finally:
        _close_staging(stage)


def _lines_read(stage: duckdb.DuckDBPyConnection) -> int:
    return stage.execute(
        "SELECT count(DISTINCT line_no) FROM (SELECT line_no FROM s_event_keys UNION ALL "
        "SELECT line_no FROM s_feedback UNION ALL SELECT line_no FROM s_rejects)"
    ).fetchall()[0][0]


def load_parsed(
    db_path: str | os.PathLike[str],
    parsed: ParsedFile,
    *,
    label: str,
    content_hash: str,
    size_bytes: int | None = None,
) -> FileResult:
    """Load what a foreign reader produced, with the same dedup, rejects and transaction."""
    return load_staged(
        db_path, [arrow_rows(parsed)], label=label, content_hash=content_hash, size_bytes=size_bytes
    )


def load_staged(
    db_path: str | os.PathLike[str],
    parts: list[Staged],
    *,
    label: str,
    content_hash: str,
    size_bytes: int | None,
) -> FileResult:
    """Load a foreign file's rows, staged as Arrow in file order (one part, or one per piece)."""
    t0 = time.monotonic()
    started = datetime.now().astimezone()
    stage = staging_connection()
    try:
        staged = combine(parts)
        # The events stay one Arrow table (a foreign file is in memory already): the merge reads
        # it directly, where native loads write and read back Parquet parts to bound memory.
        events = staged.tables.pop("s_events", None)
        insert_staged(stage, staged)
        if events is not None:
            stage.register("_rd_events", events)
            stage.execute("INSERT INTO s_event_keys SELECT line_no, event_id FROM _rd_events")
        return merge(
            db_path,
            stage,
            label=label,
            content_hash=content_hash,
            size_bytes=size_bytes,
            source_format=staged.source_format,
            lines_read=staged.records_read,
            started_at=started,
            t0=t0,
            events=events,
        )
    finally:
        _close_staging(stage)


def load_foreign(db_path: str | os.PathLike[str], src: Source, fmt: str) -> FileResult:
    from ingest.formats import no_cyclic_gc, read_foreign

    data = read_all(src)
    if fmt == "otlp" and parallel_read.splittable(data):
        parts = parallel_read.read_otlp(
            src.path or Path("-"), data, parallel_read.worker_count(), _spill_dir()
        )
    else:
        # The collector stays off until the parsed rows are gone: turned back on with millions
        # of them alive, its next run walks them all.
        with no_cyclic_gc():
            parsed = read_foreign(fmt, src.path or Path("-"), data)
            parts = [arrow_rows(parsed)]
            del parsed
    return load_staged(
        db_path,
        parts,
        label=src.label,
        content_hash=hashlib.sha256(data).hexdigest(),
        size_bytes=src.size(),
    )


def detect(src: Source, forced: str | None) -> str:
    """'native' or a foreign format name for this source."""
    from ingest.formats import FORMATS, detect_format

    if forced:
        if forced != "native" and forced not in FORMATS:
            raise InputError(
                f"unknown format {forced!r}; choose one of: {', '.join(('native',) + FORMATS)}"
            )
        return forced
    if src.path is None:
        return "native"
    try:
        with open(src.path, "rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise InputError(f"{src.label}: cannot read ({exc.strerror or exc})") from exc
    if src.gzipped:
        import gzip
        import zlib

        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 65536)
        except zlib.error as exc:
            raise InputError(f"{src.label}: not a valid gzip file ({exc})") from exc
        del gzip
    return detect_format(src.path, head) or "native"


def load_source(
    db_path: str | os.PathLike[str],
    src: Source,
    *,
    fmt: str | None = None,
    known: dict[int | None, set[str]] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> FileResult:
    """Load one source: skip it when its content is known, else stage and merge it."""
    name = detect(src, fmt)
    size = src.size()
    if known is not None and size is not None and size in known:
        # Same size as a loaded file: hashing first is cheap next to parsing.
        if file_sha256(src) in known[size]:
            return FileResult(src.label, name, skipped=True)
    if name == "native":
        return load_native(db_path, src, on_bytes=on_bytes)
    return load_foreign(db_path, src, name)

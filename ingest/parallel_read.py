"""A big OTLP JSON Lines file read on every core.

Reading OTLP is Python all the way (parse each line, map the attributes, build Arrow columns):
one core does about 20k spans/s, and the loader's DuckDB work comes on top. The lines of a JSON
Lines file are independent documents, so the file splits at line boundaries into slices that
worker processes read to Arrow tables (ingest/load_parsed.py) while this process reads one
itself; the loader stages the parts in file order, giving the rows, positions and line numbers
that reading the file in one piece gives.

Only plain traces files take this path. A file holding logs documents is read in one piece,
because how its rows join with the traces and logs files beside it depends on the whole file
(otlp._join_signals); a traces slice joins exactly as the whole file would, row by row.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa

from ingest.load_parsed import Staged, arrow_rows, combine

# Below this a worker's start-up (a fresh interpreter importing pyarrow) costs more than it saves.
MIN_BYTES = 16 << 20
# The first slice's extra share: a worker's start-up and hand-back cost about this fraction of
# a slice (measured on 2 cores, 100k spans: 0.6 s of ~4 s).
HEAD_START = 0.3
# Bytes of a slice parsed at a time (see read_slice).
PIECE_BYTES = 4 << 20


def worker_count() -> int:
    """Processes to read with, this one included: REVIEWDECK_INGEST_PROCESSES or the cores."""
    value = os.environ.get("REVIEWDECK_INGEST_PROCESSES")
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(
                f"REVIEWDECK_INGEST_PROCESSES must be a whole number, not {value!r}"
            ) from None
        return max(1, n)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def splittable(data: bytes) -> bool:
    """A big JSON Lines file of OTLP traces: its first line an object that holds resourceSpans
    (a pretty-printed document's first line is just "{"). The line is not parsed here; if it
    is broken, the first slice reports it as the one-piece read would."""
    if len(data) < MIN_BYTES or b'"resourceLogs"' in data:
        return False
    first = data.find(b"\n")
    head = data[: first if first > 0 else 0].strip()
    return head.startswith(b"{") and head.endswith(b"}") and b'"resourceSpans"' in head


def slices(data: bytes, parts: int, head_start: float = 0.0) -> list[tuple[int, bytes]]:
    """(first line number, bytes) of `parts` slices cut just after a newline. The first slice
    gets `head_start` parts' worth more than the others (the reading process's own slice: it
    starts at once and hands nothing back, while a worker starts an interpreter first)."""
    total = parts + head_start
    ends = [int(len(data) * (k + head_start) / total) for k in range(1, parts + 1)]
    return [(first, data[lo:hi]) for first, lo, hi in _cut(data, ends)]


def _cut(data: bytes, targets: list[int]) -> list[tuple[int, int, int]]:
    """(first line number, start, end) of the pieces that end just after the first newline at
    or past each target (the last piece ends with the data); empty pieces are left out."""
    out = []
    start, line = 0, 1
    for k, target in enumerate(targets):
        end = len(data) if k == len(targets) - 1 else data.find(b"\n", target)
        end = len(data) if end < 0 else end + 1
        if end <= start:
            continue
        out.append((line, start, end))
        line += data.count(b"\n", start, end)
        start = end
    return out


def read_slice(path: str, chunk: bytes, first_line: int) -> tuple[Staged, int]:
    """One slice → its staged rows and the records it read (also run in worker processes).

    Read in pieces of a few MB, each turned into Arrow before the next is parsed: a slice's
    Python rows would take about a gigabyte, and a fresh process pays for every new page it
    touches (measured: a third more time than in a warm process); pieces reuse the same
    memory. The collector stays off throughout: turned on with many rows alive, it walks them
    all (measured: a tenth of the read)."""
    from ingest.formats import no_cyclic_gc, otlp

    targets = list(range(PIECE_BYTES, len(chunk), PIECE_BYTES)) + [len(chunk)]
    parts, records_read = [], 0
    with no_cyclic_gc():
        for first, lo, hi in _cut(chunk, targets):
            parsed = otlp.read(Path(path), chunk[lo:hi], first_line=first_line + first - 1)
            parts.append(arrow_rows(parsed))
            records_read += parsed.records_read
            del parsed
    return combine(parts), records_read


def read_otlp(path: Path, data: bytes, processes: int) -> tuple[list[Staged], int]:
    """The file's staged parts in file order, and the records read."""
    parts = slices(data, processes, HEAD_START)
    workers = [_Worker(str(path), chunk, first) for first, chunk in parts[1:]]
    try:
        # This process reads the first slice while the workers start and read the rest.
        results = [read_slice(str(path), parts[0][1], parts[0][0])]
        results += [w.result() for w in workers]
    finally:
        for w in workers:
            w.stop()
    return [staged for staged, _ in results], sum(n for _, n in results)


class _Worker:
    """A child interpreter reading one slice. The slice goes in as a temporary file on stdin
    (a pipe would hand the GIL back and forth per 64 KB while this process parses, slowing
    both); the staged tables come back as Arrow IPC files this process memory-maps (no copy,
    no unpickling), the rest as a small pickle on stdout.

    A plain subprocess rather than multiprocessing: spawn and forkserver re-run the caller's
    main script in the child (a script without a __main__ guard would ingest again), and fork
    is unsafe once DuckDB's threads run in this process."""

    def __init__(self, path: str, chunk: bytes, first_line: int) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from ingest.parallel_read import serve; serve()"
        )
        self._dir = Path(tempfile.mkdtemp(prefix="reviewdeck-read-"))
        self._in = tempfile.TemporaryFile()
        self._in.write(chunk)
        self._in.seek(0)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, path, str(first_line), str(self._dir)],
            stdin=self._in,
            stdout=self._out,
            stderr=self._err,
        )

    def result(self) -> tuple[Staged, int]:
        code = self._proc.wait()
        self._out.seek(0)
        reply = self._out.read()
        if code != 0 or not reply:
            self._err.seek(0)
            stderr = self._err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"an ingest worker process failed (exit {code}): {stderr}")
        ok, value = pickle.loads(reply)
        if not ok:
            raise value
        rejects, records, records_read, names = value
        # A mapping outlives the file's name: stop() may remove the folder at once.
        tables = {
            name: pa.ipc.open_file(pa.memory_map(str(self._dir / f"{name}.arrow"))).read_all()
            for name in names
        }
        return Staged(tables, rejects, records), records_read

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for f in (self._in, self._out, self._err):
            f.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def serve() -> None:
    """The worker's side: argv = path, first line, output folder; the slice on stdin. Writes
    each staged table to FOLDER/NAME.arrow and pickles (ok, rest or the exception) to stdout."""
    path, first_line, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    chunk = sys.stdin.buffer.read()
    try:
        staged, records_read = read_slice(path, chunk, first_line)
        for name, table in staged.tables.items():
            with pa.OSFile(str(folder / f"{name}.arrow"), "wb") as sink:
                with pa.ipc.new_file(sink, table.schema) as writer:
                    writer.write_table(table)
        rest = (staged.rejects, staged.records, records_read, list(staged.tables))
        reply: tuple[bool, object] = (True, rest)
    except Exception as exc:  # handed to the loading process, which raises it
        reply = (False, exc)
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()

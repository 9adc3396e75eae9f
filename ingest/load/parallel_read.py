"""A big OTLP JSON Lines file read on every core.

Reading OTLP is Python all the way (parse each line, map the attributes, build Arrow columns):
one core does about 20k spans/s, and the loader's DuckDB work comes on top. The lines of a JSON
Lines file are independent documents, so the file is cut at line boundaries into pieces of a
few MB. This process and worker processes take pieces from one shared counter until none is
left, each turning its pieces into Arrow tables (ingest/load/parsed.py); the loader stages
them in file order, giving the rows, positions and line numbers that reading the file in one
piece gives. Taking pieces as they go, rather than a fixed share each, keeps every core busy
to the end: a worker starts an interpreter first, and a busy machine slows one process more
than another.

Pieces also bound memory: a piece's Python rows become Arrow before the next is parsed. A
whole file's rows would take gigabytes, and a fresh process pays for every new page it touches
(measured: a third more time than in a warm process).

Only plain traces files take this path. A file holding logs documents is read in one piece,
because how its rows join with the traces and logs files beside it depends on the whole file
(otlp._join_signals); a traces piece joins exactly as the whole file would, row by row.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa

from ingest.load.parsed import Staged, arrow_rows

# Below this a worker's start-up (a fresh interpreter importing pyarrow) costs more than it saves.
MIN_BYTES = 16 << 20
# Bytes parsed at a time: small enough to balance the processes and to reuse memory, big enough
# that the per-piece costs (an Arrow table, a file from a worker) stay small.
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
    is broken, the first piece reports it as the one-piece read would."""
    if len(data) < MIN_BYTES or b'"resourceLogs"' in data:
        return False
    first = data.find(b"\n")
    head = data[: first if first > 0 else 0].strip()
    return head.startswith(b"{") and head.endswith(b"}") and b'"resourceSpans"' in head


def pieces(data: bytes, size: int) -> list[tuple[int, int, int]]:
    """(first line number, start, end) of pieces of about `size` bytes, each ending just after
    a newline (the last one with the data)."""
    out = []
    start, line = 0, 1
    while start < len(data):
        end = data.find(b"\n", start + size - 1) if start + size < len(data) else -1
        end = len(data) if end < 0 else end + 1
        out.append((line, start, end))
        line += data.count(b"\n", start, end)
        start = end
    return out


def read_piece(path: str, data: bytes | memoryview, piece: tuple[int, int, int]) -> Staged:
    """One piece → its staged rows (also run in worker processes). The cyclic collector stays
    off: nothing here is cyclic, and turned on with many rows alive it would walk them all."""
    from ingest.formats import no_cyclic_gc, otlp

    first, lo, hi = piece
    with no_cyclic_gc():
        parsed = otlp.read(Path(path), bytes(data[lo:hi]), first_line=first)
        staged = arrow_rows(parsed)
        del parsed
    return staged


class _Counter:
    """The next piece to take, shared by the reading processes: eight bytes in a file, taken
    under an exclusive lock so no piece is taken twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def take(self, total: int) -> int | None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            n = int.from_bytes(os.pread(self._fd, 8, 0) or b"\0", "little")
            if n >= total:
                return None
            os.pwrite(self._fd, (n + 1).to_bytes(8, "little"), 0)
            return n
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


def _take_all(path: str, data: bytes | memoryview, cuts: list, counter: _Counter) -> dict:
    done = {}
    while (k := counter.take(len(cuts))) is not None:
        done[k] = read_piece(path, data, cuts[k])
    return done


def read_otlp(
    path: Path, data: bytes, processes: int, workdir: Path | None = None
) -> list[Staged]:
    """The file's staged pieces in file order. The workers' files go in a
    folder under `workdir` (the loader passes its spill folder, which it removes, with those of
    killed loads, itself)."""
    cuts = pieces(data, PIECE_BYTES)
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="read-", dir=workdir))
    try:
        counter = _Counter(folder / "next")
        workers = []
        try:
            if processes > 1 and len(cuts) > 1:
                (folder / "data").write_bytes(data)
                (folder / "pieces").write_bytes(pickle.dumps(cuts))
                workers = [_Worker(str(path), folder) for _ in range(min(processes, len(cuts)) - 1)]
            done = _take_all(str(path), data, cuts, counter)
            for worker in workers:
                done.update(worker.result())
        finally:
            for worker in workers:
                worker.stop()
            counter.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert done.keys() == set(range(len(cuts))), "a piece was not read"
    return [done[k] for k in range(len(cuts))]


class _Worker:
    """A child interpreter taking pieces from the shared counter. It reads the file's bytes
    from FOLDER/data (memory-mapped) and the cuts from FOLDER/pieces, writes each piece's tables
    to FOLDER as Arrow IPC files, which this process memory-maps (no copy, no unpickling), and
    the rest as a pickle on stdout.

    A plain subprocess rather than multiprocessing: spawn and forkserver re-run the caller's
    main script in the child (a script without a __main__ guard would ingest again), and fork
    is unsafe once DuckDB's threads run in this process."""

    def __init__(self, path: str, folder: Path) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from ingest.load.parallel_read import serve; serve()"
        )
        self._folder = folder
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, path, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
        )

    def result(self) -> dict[int, Staged]:
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
        done = {}
        for k, names, staged in value:
            # A mapping outlives the file's name: the folder may be removed at once.
            tables = {
                name: pa.ipc.open_file(
                    pa.memory_map(str(self._folder / f"{k}-{name}.arrow"))
                ).read_all()
                for name in names
            }
            done[k] = dataclasses.replace(staged, tables=tables)
        return done

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for f in (self._out, self._err):
            f.close()


class _NoPandas:
    """An import finder that says pandas is not installed (for worker processes only)."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"no {name} in an ingest worker", name=name)


def serve() -> None:
    """The worker's side: argv = path, folder (holding the data and the list of pieces). Takes
    pieces until none is left, writes each one's tables to FOLDER/K-NAME.arrow and pickles
    (ok, [(k, table names, the rest of its Staged)] or the exception) to stdout."""
    import mmap

    # pyarrow imports pandas, if it can, the first time it converts Python objects (0.2 s of a
    # worker's ~3 s); nothing a worker does needs it.
    sys.meta_path.insert(0, _NoPandas)
    path, folder = sys.argv[1], Path(sys.argv[2])
    try:
        with (
            open(folder / "data", "rb") as fh,
            mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            cuts = pickle.loads((folder / "pieces").read_bytes())
            counter = _Counter(folder / "next")
            try:
                done = _take_all(path, data, cuts, counter)  # type: ignore[arg-type]
            finally:
                counter.close()
        rest = []
        for k, staged in done.items():
            for name, table in staged.tables.items():
                with pa.OSFile(str(folder / f"{k}-{name}.arrow"), "wb") as sink:
                    with pa.ipc.new_file(sink, table.schema) as writer:
                        writer.write_table(table)
            rest.append((k, list(staged.tables), dataclasses.replace(staged, tables={})))
        reply: tuple[bool, object] = (True, rest)
    except Exception as exc:  # handed to the loading process, which raises it
        reply = (False, exc)
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()

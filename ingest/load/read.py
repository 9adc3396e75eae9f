"""Turning ingest arguments into sources, and a source's bytes into Arrow chunks of lines.

The native hot path never loops over lines in Python: a chunk of bytes becomes an Arrow string
array whose offsets are the newline positions (numpy finds them), so DuckDB scans the lines
without a copy. Bytes that are not UTF-8 are the one slow case: only a chunk that contains some
is decoded with a marker for each bad sequence (native.BAD_UTF8), so those lines are rejected
and their neighbours load as usual.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import hashlib
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from ingest.errors import InputError
from ingest.load.native import BAD_UTF8

CHUNK_BYTES = 128 * 1024 * 1024  # fewer chunks: each costs ~60 ms of statement overhead
BATCH_ROWS = 8192  # rows per Arrow batch: DuckDB scans batches in parallel

codecs.register_error("reviewdeck_mark", lambda exc: (BAD_UTF8, exc.end))


@dataclass(frozen=True)
class Source:
    """One thing to ingest: a file (maybe gzipped) or stdin ('-')."""

    label: str  # what the user sees and what `ingested_files.path` records
    path: Path | None  # None for stdin

    @property
    def gzipped(self) -> bool:
        return self.path is not None and self.path.suffix == ".gz"

    def size(self) -> int | None:
        return self.path.stat().st_size if self.path is not None else None


# What a folder of exports holds beside the logs (a README or MANIFEST, pictures, scripts) and
# no log format is written as: read from a folder, each line of a README became a reject. A file
# named on the command line is still read, whatever its name.
DOCUMENT_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".pdf", ".html", ".htm", ".png",
                               ".jpg", ".jpeg", ".gif", ".svg", ".py", ".ipynb", ".toml"})


def is_document(path: Path) -> bool:
    """A file in a folder that is not a log: by its suffix (under a .gz, if gzipped)."""
    stem = path.with_suffix("") if path.suffix.lower() == ".gz" else path
    return stem.suffix.lower() in DOCUMENT_SUFFIXES


def expand(args: list[str], passed_over: list[str] | None = None) -> list[Source]:
    """Files, directories (recursive, hidden files and documents skipped), globs and '-' →
    sources, in order. The documents a folder walk skipped are appended to `passed_over`."""
    out: list[Source] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = str(p.resolve())
        if key not in seen:
            seen.add(key)
            out.append(Source(str(p), p))

    for arg in args:
        if arg == "-":
            out.append(Source("-", None))
            continue
        p = Path(arg)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or any(part.startswith(".")
                                          for part in f.relative_to(p).parts):
                    continue
                if is_document(f):
                    if passed_over is not None:
                        passed_over.append(str(f))
                    continue
                add(f)
        elif p.is_file():
            add(p)
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError(f"{arg}: no file matches this pattern")
            for m in matches:
                if Path(m).is_file():
                    add(Path(m))
        else:
            raise InputError(f"{arg}: no such file or directory")
    return out


def open_binary(src: Source) -> BinaryIO:
    if src.path is None:
        return sys.stdin.buffer
    try:
        if src.gzipped:
            return gzip.open(src.path, "rb")  # type: ignore[return-value]
        return open(src.path, "rb")
    except OSError as exc:
        raise InputError(f"{src.label}: cannot read ({exc.strerror or exc})") from exc


def file_sha256(src: Source) -> str:
    """Hash of the (decompressed) content, the identity `ingested_files` records."""
    h = hashlib.sha256()
    with open_binary(src) as fh:
        try:
            while block := fh.read(CHUNK_BYTES):
                h.update(block)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{src.label}: cannot read ({exc})") from exc
    return h.hexdigest()


def read_all(src: Source) -> bytes:
    with open_binary(src) as fh:
        try:
            return fh.read()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{src.label}: cannot read ({exc})") from exc


def lines_table(buf: bytes, first_line_no: int) -> tuple[pa.Table, int]:
    """Arrow (line_no, line) for a buffer of whole lines; returns it and the number of lines.

    Each line keeps its trailing newline (SQL strips it): that keeps the array a zero-copy view
    whose offsets are simply the newline positions.
    """
    data = pa.py_buffer(buf)
    ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 10) + 1
    if len(ends) == 0 or ends[-1] != len(buf):
        ends = np.append(ends, len(buf))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    n = len(ends)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), data)
    if not buf.isascii():
        try:
            arr.validate(full=True)  # UTF-8 check in C, without decoding a copy of the chunk
        except pa.ArrowInvalid:
            # Not UTF-8 somewhere: mark each bad sequence; a marked line becomes a reject.
            fixed = buf.decode("utf-8", "reviewdeck_mark").encode("utf-8")
            return lines_table(fixed, first_line_no)
    # from_buffers, not pa.array: pa.array imports pandas (a second per process).
    numbers = np.arange(first_line_no, first_line_no + n, dtype=np.int64)
    line_no = pa.Int64Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(numbers)])
    table = pa.Table.from_arrays([line_no, arr], names=["line_no", "line"])
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS)), n


@dataclass
class ChunkReader:
    """Reads a source in chunks of whole lines, hashing every byte on the way."""

    src: Source
    chunk_bytes: int = CHUNK_BYTES
    on_bytes: Callable[[int], None] | None = None
    sha256: str = ""
    lines: int = 0

    def __iter__(self) -> Iterator[pa.Table]:
        h = hashlib.sha256()
        carry = b""
        line_no = 1
        with open_binary(self.src) as fh:
            while True:
                try:
                    block = fh.read(self.chunk_bytes)
                except (OSError, EOFError, gzip.BadGzipFile) as exc:
                    raise InputError(f"{self.src.label}: cannot read ({exc})") from exc
                if block:
                    h.update(block)
                    if self.on_bytes:
                        self.on_bytes(len(block))
                buf = carry + block if carry else block
                if block:
                    cut = buf.rfind(b"\n") + 1
                    if cut == 0:  # one line longer than a chunk: keep reading
                        carry = buf
                        continue
                    carry, buf = buf[cut:], buf[:cut]
                else:
                    carry = b""
                if buf:
                    table, n = lines_table(buf, line_no)
                    line_no += n
                    yield table
                if not block:
                    break
        self.sha256 = h.hexdigest()
        self.lines = line_no - 1


def prefetched(items: Iterator[pa.Table], depth: int = 1) -> Iterator[pa.Table]:
    """Iterate in a background thread, `depth` items ahead.

    Reading, hashing and splitting a chunk (Python, numpy) then overlaps DuckDB parsing the
    previous one; both release the GIL for most of their work.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                q.put(item)
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    threading.Thread(target=produce, daemon=True, name="reviewdeck-read").start()
    while True:
        item = q.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item

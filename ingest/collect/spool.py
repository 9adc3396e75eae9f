"""The collector's spool: every acknowledged request is a file here before its 200 goes out.

One request is one file, written to `tmp/`, fsynced, renamed into the spool folder and the
folder fsynced: after a crash a file is either whole in the spool or absent, never torn. A
traces or logs request is stored as one line of OTLP/JSON (a `*.traces.jsonl` / `*.logs.jsonl`
file that `reviewdeck ingest` itself reads); a payload refused with 400 is a small `*.bad.json`
record so that it reaches `rejects` too. Names sort in arrival order.

A batch is claimed by a manifest in `batches/` (written durably before the warehouse is
touched) and its files are removed only after the warehouse committed it: a crash between the
two replays the manifest, which the warehouse recognises by its content hash and skips.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

KINDS = {"traces": ".traces.jsonl", "logs": ".logs.jsonl", "bad": ".bad.json"}


class SpoolFull(Exception):
    """No room for this request until the batcher has moved some of the spool in."""


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # traces | logs | bad
    size: int

    @property
    def created_s(self) -> float:
        return int(self.name.split("-", 1)[0]) / 1e9


def _kind_of(name: str) -> str | None:
    for kind, suffix in KINDS.items():
        if name.endswith(suffix):
            return kind
    return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(folder: Path, name: str, data: bytes, tmp: Path) -> None:
    """Write `data` as folder/name so that it is whole or absent after any crash."""
    part = tmp / f"{name}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(part, folder / name)
    _fsync_dir(folder)


class Spool:
    """The spool folder, with its size kept in memory so a full spool is known at once."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.tmp = folder / "tmp"
        self.batches = folder / "batches"
        for d in (folder, self.tmp, self.batches):
            d.mkdir(parents=True, exist_ok=True)
        for stale in self.tmp.iterdir():  # a write cut short by a crash; never acknowledged
            stale.unlink(missing_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._used = sum(e.size for e in self.entries())

    @property
    def used_bytes(self) -> int:
        return self._used

    def _name(self, kind: str) -> str:
        return f"{time.time_ns():020d}-{next(self._counter) % 1_000_000:06d}{KINDS[kind]}"

    def write(self, kind: str, data: bytes, *, force: bool = False) -> Entry:
        """Store one request durably; SpoolFull when it would pass max_bytes (unless `force`,
        for the small records of refused payloads)."""
        with self._lock:
            if not force and self._used and self._used + len(data) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.folder} holds {self._used} bytes of {self.max_bytes}"
                )
            self._used += len(data)
            name = self._name(kind)
        try:
            durable_write(self.folder, name, data, self.tmp)
        except BaseException:
            with self._lock:
                self._used -= len(data)
            raise
        return Entry(name, kind, len(data))

    def entries(self) -> list[Entry]:
        out = []
        with os.scandir(self.folder) as it:
            for de in it:
                kind = _kind_of(de.name) if de.is_file() else None
                if kind:
                    out.append(Entry(de.name, kind, de.stat().st_size))
        return sorted(out, key=lambda e: e.name)

    def read(self, entry: Entry) -> bytes:
        return (self.folder / entry.name).read_bytes()

    def remove(self, entries: list[Entry]) -> None:
        for e in entries:
            try:
                (self.folder / e.name).unlink()
            except FileNotFoundError:
                continue
            with self._lock:
                self._used -= e.size
        _fsync_dir(self.folder)

    # Batch manifests -----------------------------------------------------------------------

    def claim(self, batch_id: str, manifest: dict[str, Any]) -> None:
        durable_write(self.batches, f"{batch_id}.json", orjson.dumps(manifest), self.tmp)

    def manifests(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for p in sorted(self.batches.glob("*.json")):
            try:
                out.append((p.stem, orjson.loads(p.read_bytes())))
            except orjson.JSONDecodeError:
                # Written durably before use, so unreadable means never used: drop it.
                p.unlink(missing_ok=True)
        return out

    def release(self, batch_id: str) -> None:
        (self.batches / f"{batch_id}.json").unlink(missing_ok=True)
        _fsync_dir(self.batches)

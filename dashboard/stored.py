"""Results of the pages' heavy queries, kept on disk beside the warehouse until it changes.

The in-memory cache (dashboard/cache.py) is per server process and starts empty: the first open
of a page after a restart or after new data pays every query again, tens of seconds at millions
of events (docs/scale.md). A query function marked `@kept` also has its result written to
`<warehouse>.results/<key>.pickle` with the warehouse stamp it was computed on
(`ingest.db.warehouse_stamp`), and read back while the stamp is the same. So:

- any write to the warehouse (ingest, analyze, evaluate, a label) makes every kept result
  stale, as it does the in-memory cache; a result computed while a writer committed is not kept;
- `reviewdeck warm` opens every page once at the end of a pipeline run (dashboard/warm.py), so
  the first visitor after new data finds the results on disk.

Pickle, because the results are polars frames and the models' dataclasses. A pickle runs code
when loaded, so the folder is made private to the user who runs the dashboard (mode 0700, files
0600) and a file is loaded only when that user owns it and nobody else can write it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ingest.db import warehouse_stamp

F = TypeVar("F", bound=Callable[..., Any])
FILE_VERSION = 1
_KEPT: set[str] = set()  # "module:qualname" of the query functions marked @kept

log = logging.getLogger(__name__)


def kept(fn: F) -> F:
    """Mark a query function whose results are kept on disk (see the module docstring)."""
    _KEPT.add(f"{fn.__module__}:{fn.__qualname__}")
    return fn


def is_kept(name: str) -> bool:
    """Whether the query "module:qualname" is marked @kept (by name: a wrapped function, as a
    profiler's, is still the same query)."""
    return name in _KEPT


def folder(db: str | os.PathLike[str]) -> Path:
    return Path(str(db) + ".results")


def _key(name: str, args: tuple, kwargs: tuple) -> str | None:
    """A file name for one call: a hash of its arguments' repr, which is stable across
    processes for what pages pass (filters, dates, tuples, strings, numbers); None for an
    argument whose repr is not (an object shown by its address)."""
    text = repr((name, args, kwargs))
    if " at 0x" in text:
        return None
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _stamp_tag(stamp: tuple) -> str:
    return hashlib.sha256(repr(tuple(stamp)).encode()).hexdigest()[:16]


def _path(db: str, stamp: tuple, key: str) -> Path:
    """`<key>.<stamp tag>.pickle`: the warehouse state is in the name, so stale files are
    found without opening them."""
    return folder(db) / f"{key}.{_stamp_tag(stamp)}.pickle"


def _trusted(path: Path) -> bool:
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(db: str, stamp: tuple, name: str, args: tuple, kwargs: tuple) -> tuple[bool, Any]:
    """(True, result) when a result of this call on the warehouse as it is was kept."""
    key = _key(name, args, kwargs)
    if key is None:
        return False, None
    path = _path(db, stamp, key)
    if not path.exists():
        return False, None
    try:
        if not (_trusted(path) and _trusted(path.parent)):
            log.warning("not loading %s: it is not private to this user", path)
            return False, None
        with open(path, "rb") as f:
            body = pickle.load(f)  # noqa: S301 - our own file, checked above
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.warning("ignoring the kept result %s: %s", path, exc)
        return False, None
    if (
        not isinstance(body, dict)
        or body.get("version") != FILE_VERSION
        or body.get("name") != name
        or tuple(body.get("stamp", ())) != tuple(stamp)
    ):
        return False, None
    log.debug("read the kept result of %s from %s", name, path.name)
    return True, body["value"]


def store(db: str, stamp: tuple, name: str, args: tuple, kwargs: tuple, value: Any) -> bool:
    """Keep `value` if the warehouse still has `stamp` (nothing committed while it was
    computed); written atomically, so a reader never sees half a file."""
    key = _key(name, args, kwargs)
    if key is None or warehouse_stamp(db) != tuple(stamp):
        return False
    where = folder(db)
    tmp = where / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        where.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump({"version": FILE_VERSION, "name": name, "stamp": list(stamp),
                         "value": value}, f, protocol=pickle.HIGHEST_PROTOCOL)
        kept_at = _path(db, stamp, key)
        os.replace(tmp, kept_at)
        # One file per call: older states' results of it go, so a warehouse written to all
        # day (a collector) does not fill the disk with results nobody can read again.
        for old in where.glob(f"{key}.*.pickle"):
            if old != kept_at:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        tmp.unlink(missing_ok=True)
        log.warning("could not keep the result of %s in %s: %s", name, where, exc)
        return False
    return True


def clear_stale(db: str) -> int:
    """Delete kept results of older warehouse states (warm runs it first, so the folder holds
    one state's results, not every state's); returns how many."""
    tag, gone = _stamp_tag(warehouse_stamp(db)), 0
    for path in folder(db).glob("*.pickle"):
        if path.name.split(".")[1] != tag:
            path.unlink(missing_ok=True)
            gone += 1
    return gone

"""A DuckDB connection proxy that times every SQL statement, for the benches' breakdowns."""

from __future__ import annotations

import time
from collections.abc import Callable


class Timed:
    """A connection, result or relation whose calls are timed into `log`: one entry per
    statement ({"sql": clipped text, "ms", "at": caller()}), and the time of the relation or
    result it returns (fetches, .pl()) added to that statement's entry."""

    def __init__(self, obj, log: list, caller: Callable[[], str], clip: int = 600,
                 entry: dict | None = None):
        self._obj, self._log, self._caller, self._clip = obj, log, caller, clip
        self._entry = entry

    def __getattr__(self, name):
        import duckdb

        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            entry = self._entry
            if name in ("execute", "sql", "query") and args and isinstance(args[0], str):
                entry = {"sql": " ".join(args[0].split())[:self._clip], "ms": 0.0,
                         "at": self._caller()}
                self._log.append(entry)
            t0 = time.perf_counter()
            res = attr(*args, **kwargs)
            if entry is not None:
                entry["ms"] += (time.perf_counter() - t0) * 1000
            if isinstance(res, duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation):
                return Timed(res, self._log, self._caller, self._clip, entry)
            return res

        return call

    def __iter__(self):
        return iter(self._obj)

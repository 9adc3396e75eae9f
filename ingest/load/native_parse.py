"""Running native parsing on a chunk: the fast path first (native_fast), then the slow path
(native) for the lines it left, and the embedded feedback once the chunks are staged.

The two paths share their definitions through ingest.load.native; this module is the only one
that needs both, so neither imports the other.
"""

from __future__ import annotations

import duckdb

from ingest.load.native import feedback_statements, leftover, slow_statements
from ingest.load.native_fast import embedded_statements, fast_statements


def parse_chunk(con: duckdb.DuckDBPyConnection, chunk_name: str, first: int, last: int) -> None:
    """Stage lines first..last (the registered Arrow table `chunk_name`); caller handles errors.

    The fast path takes every line that needs no explanation; the rest (feedback lines with
    something odd, bad lines) go through the slow path, which finds each one's reason.
    """
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    try:
        for sql in fast_statements(chunk_name):
            con.execute(sql)
    finally:
        con.execute("RESET disabled_optimizers")
    con.execute(leftover(chunk_name, first, last))
    if con.execute("SELECT count(*) FROM _rest").fetchall()[0][0]:
        for sql in slow_statements("_rest"):
            con.execute(sql)


def finish(con: duckdb.DuckDBPyConnection) -> None:
    """After the last chunk: embedded feedback, and feedback rows found by the slow path."""
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    try:
        slow, rejects, good, clear = feedback_statements()
        for sql in embedded_statements():
            con.execute(sql)
        # The slow statements are big: binding them costs ~30 ms even with nothing to read,
        # and this runs once per chunk.
        if con.execute("SELECT count(*) FROM _items_rest").fetchall()[0][0]:
            con.execute(slow)
        if con.execute("SELECT count(*) FROM s_feedback_all").fetchall()[0][0]:
            for sql in (rejects, good, clear):
                con.execute(sql)
    finally:
        con.execute("RESET disabled_optimizers")

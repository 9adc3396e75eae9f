"""Live reports stored beside the warehouse, so opening the Weekly review is a lookup.

Building a week's live report reads most of the warehouse's week (15-25 s at 2M events,
docs/scale.md), yet its inputs change only when a writer commits. So a built report is kept in
`<warehouse>.reports/<week>.json` with the warehouse stamp it was built on
(`ingest.db.warehouse_stamp`: the file's and the WAL's mtime and size), and is used only while
the stamp is the same: any write (ingest, analyze, evaluate, a label, a note) makes every stored
report stale, and the next open rebuilds it. A report is stored only when the stamp did not
move while it was built, so it never mixes two states of the data.

Files, not a table: the dashboard only ever reads the warehouse (a writer there would wait for
the file lock and block ingests), and the reports are a cache that can be deleted at any time.
`reviewdeck warm` fills them at the end of a pipeline run; the page fills them after
a build of its own, so a second server or a restart finds them.

Links inside a report carry the app's address, which differs between the page, the CLI and a
second server; a stored report is built with a placeholder address and given the reader's on
load.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

import duckdb

from ingest.db import warehouse_stamp
from models.report.build import build_report
from models.report.model import (
    FORMAT_VERSION,
    Report,
    app_url,
    from_dict,
    to_dict,
    week_bounds,
)

PLACEHOLDER = "http://reviewdeck.invalid"  # .invalid never resolves (RFC 2606)
FILE_VERSION = 1

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def folder(db: str | os.PathLike[str]) -> Path:
    return Path(str(db) + ".reports")


def _file(db: str | os.PathLike[str], week: str) -> Path:
    return folder(db) / f"{week}.json"


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind a connection (None in memory), so a query function needs no path."""
    rows = con.execute(  # fetchall: a fetchone leaves the result open on a shared connection
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def load(
    db: str | os.PathLike[str], week: str, base_url: str | None, now: dt.datetime | None = None
) -> Report | None:
    """The stored report of `week` if it was built on the warehouse as it is now (and, for a
    partial week, the clock has not passed the week's end), else None."""
    path = _file(db, week)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the stored report %s: %s", path, exc)
        return None
    if (
        stored.get("version") != FILE_VERSION
        or stored.get("format") != FORMAT_VERSION
        or tuple(stored.get("stamp", ())) != warehouse_stamp(db)
        or (stored.get("valid_until")
            and (now or _now()) >= dt.datetime.fromisoformat(stored["valid_until"]))
    ):
        return None
    return _with_base(stored["report"], base_url)


def _with_base(data: dict, base_url: str | None) -> Report:
    base = (base_url or app_url()).rstrip("/")  # as build_report chooses it
    text = json.dumps(data).replace(PLACEHOLDER, base)
    return dataclasses.replace(from_dict(json.loads(text)), base_url=base)


def _store(db: str | os.PathLike[str], week: str, report: Report, stamp: tuple) -> bool:
    """Write atomically (a reader never sees half a file); a folder that cannot be written
    (a read-only mount) only costs the speed-up."""
    target = _file(db, week)
    body = {"version": FILE_VERSION, "format": FORMAT_VERSION, "stamp": list(stamp),
            "week": week, "report": to_dict(report),
            # A partial week becomes complete when the clock passes its end, with no write
            # (models.trends.weeks.coverage): its report is good only until then.
            "valid_until": week_bounds(week)[1].isoformat() if report.partial else None}
    # A name of this writer's own; opened normally, so the file gets the umask's mode (as
    # the warehouse does) and a dashboard running as another user can read it.
    tmp = target.with_name(f".{week}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        target.parent.mkdir(exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(body, out)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.warning("could not store the report of %s in %s: %s", week, target.parent, exc)
        return False
    return True


def live_report(con: duckdb.DuckDBPyConnection, week: str, base_url: str | None) -> Report:
    """The live report of `week`: the stored one when the warehouse has not changed since it
    was built, else built now (and stored when the data held still meanwhile)."""
    db = database_path(con)
    if db is None:
        return build_report(con, week, base_url=base_url)
    found = load(db, week, base_url)
    if found is not None:
        return found
    report, _ = build_and_store(con, db, week)
    return _with_base(to_dict(report), base_url)


def build_and_store(
    con: duckdb.DuckDBPyConnection, db: str | os.PathLike[str], week: str
) -> tuple[Report, bool]:
    """Build `week` with the placeholder address and store it; (report, stored?). Not stored
    when a writer committed during the build: the report may then mix two states."""
    before = warehouse_stamp(db)
    report = build_report(con, week, base_url=PLACEHOLDER)
    stored = warehouse_stamp(db) == before and _store(db, week, report, before)
    return report, stored


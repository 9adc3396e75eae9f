"""Labels as CSV: export a queue for a spreadsheet, import the labels made there.

Export writes one row per item per reviewer (an item nobody has labelled yet: one row with an
empty reviewer and verdict, to fill in), with the input and output a spreadsheet reviewer reads.
Import reads rows of `event_id, reviewer, verdict[, tags, note, correction]` (other columns,
such as the exported text, are ignored) and writes each as the same feedback rows the page
writes. Every bad row is reported with its line and what is wrong, and never costs the good
rows; a row with an empty verdict is an unlabelled item and is passed over. Importing the same
file twice changes nothing (feedback ids are stable), and a later import of a row replaces it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.load import derived
from models.queue import store

EXPORT_COLUMNS = (
    "queue_id", "position", "event_id", "stratum", "reviewer", "verdict", "tags", "note",
    "correction", "labelled_at", "model", "input", "output",
)
REQUIRED = ("event_id", "reviewer", "verdict")
SKIP = "skip"


@dataclass(frozen=True)
class ImportResult:
    labels: int
    unchanged: int  # rows that said what was stored already
    skips: int
    blank: int  # rows with no verdict yet
    errors: tuple[str, ...]  # "FILE line N: what was wrong"


def export_csv(con: duckdb.DuckDBPyConnection, queue_id: int) -> str:
    queue = store.get_queue(con, queue_id)
    frame = store.labels_frame(con, queue)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in frame.iter_rows(named=True):
        writer.writerow(
            [queue_id, *("" if row[c] is None else row[c] for c in EXPORT_COLUMNS[1:])]
        )
    return out.getvalue()


@dataclass(frozen=True)
class _Row:
    line: int
    queue_id: str
    event_id: str
    reviewer: str
    verdict: str
    tags: tuple[str, ...]
    note: str | None
    correction: str | None


def _split_tags(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.replace(",", ";").split(";") if t.strip())


def _rows(text: str, name: str) -> tuple[list[_Row], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise store.QueueError(
            f"{name}: the header has no {', '.join(missing)} column; a label file needs "
            f"{', '.join(REQUIRED)} (and may have tags, note, correction)"
        )
    reader.fieldnames = header
    rows: list[_Row] = []
    errors: list[str] = []
    start = reader.line_num + 1
    for rec in reader:
        line, start = start, reader.line_num + 1
        if None in rec:
            errors.append(f"{name} line {line}: more fields than the header has columns")
            continue

        def get(key: str, rec: dict = rec) -> str:
            return (rec.get(key) or "").strip()

        rows.append(_Row(line, get("queue_id"), get("event_id"), get("reviewer"), get("verdict"),
                         _split_tags(get("tags")), get("note") or None,
                         (rec.get("correction") or None)))
    return rows, errors


def import_csv(
    con: duckdb.DuckDBPyConnection, queue_id: int, text: str, *, name: str = "labels.csv"
) -> ImportResult:
    """Validate every row, write the good ones in one transaction, report the bad ones."""
    queue = store.get_queue(con, queue_id)
    rows, errors = _rows(text, name)
    seen: dict[tuple[str, str], int] = {}
    labels = unchanged = skips = blank = 0
    con.execute("BEGIN")
    try:
        for row in rows:
            where = f"{name} line {row.line}"
            if not row.verdict:
                blank += 1
                continue
            if row.queue_id and row.queue_id != str(queue_id):
                errors.append(f"{where}: the row is for queue {row.queue_id}, not {queue_id}")
                continue
            if not row.event_id:
                errors.append(f"{where}: no event_id")
                continue
            if not row.reviewer:
                errors.append(f"{where}: no reviewer (who gave this label?)")
                continue
            key = (row.event_id, row.reviewer)
            if key in seen:
                errors.append(f"{where}: {row.reviewer} already labelled {row.event_id} on "
                              f"line {seen[key]}; kept that one")
                continue
            try:
                if row.verdict.lower() == SKIP:
                    store.record_skip(con, queue_id, row.event_id, row.reviewer)
                    skips += 1
                elif store.is_unchanged(con, queue, row.event_id, row.reviewer, row.verdict,
                                        row.tags, row.note, row.correction):
                    store.check_label(queue, row.verdict, row.tags)
                    unchanged += 1
                else:
                    store.write_label(con, queue, row.event_id, row.reviewer, row.verdict,
                                      tags=row.tags, note=row.note, correction=row.correction)
                    labels += 1
                seen[key] = row.line
            except store.QueueError as exc:
                errors.append(f"{where}: {exc}")
        derived.refresh(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return ImportResult(labels, unchanged, skips, blank, tuple(errors))


def import_file(con: duckdb.DuckDBPyConnection, queue_id: int, path: Path) -> ImportResult:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not a column name
    except (OSError, UnicodeDecodeError) as exc:
        raise store.QueueError(f"cannot read {path}: {exc}") from exc
    return import_csv(con, queue_id, text, name=str(path))

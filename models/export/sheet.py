"""Flat files for people with a spreadsheet: the filtered events and their feedback, as CSV.

`events.csv` has one row per event with the columns a stakeholder reads (no JSON): when, which
model and prompt, status, tags joined by '; ', the question and answer texts, tokens, cost,
latency, the feedback folded in (thumbs, negative signal, corrected, lowest score) and the
current cluster. `feedback.csv` has every feedback row of those events. Cells that a
spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading apostrophe:
logged text is data, never a formula. Secret-shaped strings in error messages are replaced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest import secrets as redact
from ingest.db import connect
from models.filters import NEGATIVE_SQL, EventFilter, where_sql


def _cell(expr: str) -> str:
    """A text cell a spreadsheet shows as text, never evaluates."""
    return (f"CASE WHEN regexp_matches({expr}, '^[=+\\-@\\t\\r]') THEN '''' || {expr} "
            f"ELSE {expr} END")


_EVENT_COLUMNS = {
    "event_id": "e.event_id",
    "ts": "strftime(e.ts, '%Y-%m-%d %H:%M:%S')",
    "day": "CAST(CAST(e.ts AS DATE) AS VARCHAR)",
    "model": _cell("e.model"),
    "provider": _cell("e.provider"),
    "prompt_name": _cell("e.prompt_name"),
    "prompt_version": _cell("e.prompt_version"),
    "environment": _cell("e.environment"),
    "status": "e.status",
    "error_type": _cell("e.error_type"),
    "error_message": _cell(redact.text_sql("e.error_message")),
    "user_id": _cell("e.user_id"),
    "session_id": _cell("e.session_id"),
    "tags": _cell("array_to_string(e.tags, '; ')"),
    "input_text": _cell("e.input_text"),
    "output_text": _cell("e.output_text"),
    "tokens_in": "e.tokens_in",
    "tokens_out": "e.tokens_out",
    "cost_usd": "e.cost_usd",
    "latency_ms": "e.latency_ms",
    "thumbs": "fb.thumbs",
    "negative": "coalesce(fb.negative, false)",
    "corrected": "coalesce(fb.corrected, false)",
    "lowest_score": "fb.lowest_score",
    "n_feedback": "coalesce(fb.n_feedback, 0)",
    "cluster_id": "cm.cluster_id",
    "cluster": _cell("cl.label"),
    "rerun_of": "e.rerun_of",
}
_FEEDBACK_COLUMNS = {
    "feedback_id": "f.feedback_id",
    "event_id": "f.event_id",
    "ts": "strftime(f.ts, '%Y-%m-%d %H:%M:%S')",
    "name": _cell("f.name"),
    "kind": "f.kind",
    "source": "f.source",
    "value": "f.value",
    "label": _cell("f.label"),
    "author": _cell("f.author"),
    "comment": _cell("f.comment"),
    "correction": _cell("f.correction"),
    "evaluator_version": _cell("f.evaluator_version"),
    "judge_model": _cell("f.judge_model"),
    "tags": _cell("array_to_string(f.tags, '; ')"),
}


@dataclass(frozen=True)
class SheetExport:
    out_dir: Path
    files: dict[str, Path]
    rows: dict[str, int]

    def as_dict(self) -> dict:
        return {"out": str(self.out_dir), "files": {k: str(v) for k, v in self.files.items()},
                "rows": dict(self.rows)}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _events_sql(where: str) -> str:
    cols = ", ".join(f'{expr} AS "{name}"' for name, expr in _EVENT_COLUMNS.items())
    return f"""
        SELECT {cols}
        FROM events e
        LEFT JOIN (
            SELECT f.event_id,
                   arg_max(f.value, coalesce(f.ts, f.ingested_at))
                       FILTER (WHERE f.name = 'thumbs') AS thumbs,
                   bool_or({NEGATIVE_SQL}) AS negative,
                   bool_or(f.kind = 'correction') AS corrected,
                   min(f.value) FILTER (WHERE f.kind = 'score') AS lowest_score,
                   count(*) AS n_feedback
            FROM feedback f GROUP BY f.event_id
        ) fb ON fb.event_id = e.event_id
        LEFT JOIN cluster_members cm ON cm.event_id = e.event_id
        LEFT JOIN clusters cl ON cl.cluster_id = cm.cluster_id
        WHERE {where}
        ORDER BY e.ts, e.event_id
    """


def _feedback_sql(where: str) -> str:
    cols = ", ".join(f'{expr} AS "{name}"' for name, expr in _FEEDBACK_COLUMNS.items())
    return f"""
        SELECT {cols} FROM feedback f
        WHERE f.event_id IN (SELECT e.event_id FROM events e WHERE {where})
        ORDER BY f.event_id, f.ts, f.feedback_id
    """


def export_sheet(db_path: str | os.PathLike[str], flt: EventFilter,
                 out_dir: str | os.PathLike[str]) -> SheetExport:
    """Write events.csv and feedback.csv for the events matching flt into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    where, params = where_sql(flt, "e")
    files: dict[str, Path] = {}
    with connect(db_path, read_only=True) as con:
        for name, sql in (("events", _events_sql(where)), ("feedback", _feedback_sql(where))):
            path = out_dir / f"{name}.csv"
            tmp = path.with_name(path.name + ".tmp")
            con.execute(f"COPY ({sql}) TO {_literal(str(tmp))} (FORMAT csv, HEADER true)", params)
            os.replace(tmp, path)
            files[name] = path
    rows = {name: _csv_rows(path) for name, path in files.items()}  # the file closed, read it
    return SheetExport(out_dir, files, rows)


def _csv_rows(path: Path) -> int:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)

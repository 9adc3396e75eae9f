"""A file that is one JSON document or JSON Lines, read the same way by every JSON format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.formats.otlp import decode_text, json_lines
from ingest.records import ParsedFile


def json_documents(path: Path, data: bytes, out: ParsedFile) -> list[tuple[int | None, Any]]:
    """(line number, document) pairs: one pair with no line for a whole JSON file, else one per
    good line of JSON Lines (bad lines become rejects in `out`)."""
    text = decode_text(path, data)
    try:
        return [(None, json.loads(text))]
    except ValueError as exc:
        return json_lines(path, text, out, exc)

"""A file that is one JSON document or JSON Lines, read the same way by every JSON format.

The text-level helpers every reader shares (UTF-8 decoding, JSON Lines with rejects for bad
lines); they depend on nothing else in the package but messages.loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.formats.messages import loads
from ingest.records import ParsedFile, Reject


def json_documents(path: Path, data: bytes, out: ParsedFile) -> list[tuple[int | None, Any]]:
    """(line number, document) pairs: one pair with no line for a whole JSON file, else one per
    good line of JSON Lines (bad lines become rejects in `out`)."""
    text = decode_text(path, data)
    try:
        return [(None, json.loads(text))]
    except ValueError as exc:
        return json_lines(path, text, out, exc)


def iter_json_lines(
    path: Path,
    text: str | bytes,
    out: ParsedFile,
    whole_error: ValueError | None,
    *,
    first_line: int = 1,
) -> Iterator[tuple[int | None, Any]]:
    """Parse JSON Lines one at a time (so a big file's parsed lines can be freed as they are
    mapped); a file whose first line is not JSON is one broken document instead. Without
    `whole_error`, text is a slice of a file known to be JSON Lines: bad lines are rejects."""
    seen = whole_error is None
    for line_no, line in enumerate(text.splitlines(), start=first_line):
        if not line.strip():
            continue
        try:
            doc = loads(line)
        except ValueError as exc:
            if not seen:
                raise InputError(
                    f"{path}: malformed or truncated JSON ({whole_error}); "
                    f"not JSON Lines either (line {line_no} is not JSON)"
                ) from whole_error
            out.records_read += 1
            shown = line if isinstance(line, str) else line.decode("utf-8", "replace")
            out.rejects.append(Reject(line_no, f"not JSON ({exc})", shown[:2000]))
            continue
        seen = True
        yield line_no, doc


def json_lines(
    path: Path, text: str | bytes, out: ParsedFile, whole_error: ValueError
) -> list[tuple[int | None, Any]]:
    """All lines of a JSON Lines file (see iter_json_lines)."""
    return list(iter_json_lines(path, text, out, whole_error))


def decode_text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc})") from exc

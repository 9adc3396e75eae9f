"""Readers of foreign formats (OTLP, Langfuse, LangSmith, OpenAI logs and Batch, score files).

Contract used by the loader:
- `FORMATS`: names accepted by `reviewdeck ingest --format` besides 'native'.
- `detect_format(path, head)`: the name of the format of a file from its first bytes, or None.
- `read_foreign(name, path, data)`: parse a whole file into a ParsedFile (never raises for a bad
  record: it becomes a Reject; raises InputError only when the file cannot be read at all).
"""

from __future__ import annotations

from pathlib import Path

from ingest.errors import InputError
from ingest.records import ParsedFile

FORMATS: tuple[str, ...] = ()


def detect_format(path: Path, head: bytes) -> str | None:
    return None


def read_foreign(name: str, path: Path, data: bytes) -> ParsedFile:
    raise InputError(f"{path}: unknown format {name!r}")

"""What a format reader hands the loader: plain rows, ready to insert.

Readers of foreign formats (ingest/formats/) are pure: bytes in, ParsedFile out. The loader
(ingest/load/loader.py) owns transactions, dedup, rejects and the file registry, so a reader never
touches the warehouse and every format gets the same guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reject:
    line_no: int | None  # 1-based line (or record number for whole-document formats)
    reason: str  # what was wrong, in words a user can act on
    raw_text: str  # the offending text, truncated by the loader


@dataclass
class ParsedFile:
    """Rows keyed by `events` / `feedback` column names (docs/schema.md).

    JSON columns (input_messages, output_messages, params, raw) hold Python lists/dicts; the
    loader encodes them. Timestamps are timezone-aware datetimes in UTC. Missing keys are NULL.
    """

    source_format: str
    events: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    records_read: int = 0

"""Writing one demo log and its sidecar of planted truths: draw (sample), assemble (lines),
summarise (truths). Kept apart from the drawing so the modules it calls import only downward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ingest.demo.lines import write_lines
from ingest.demo.sample import sample
from ingest.demo.truths import build_truths


@dataclass(frozen=True)
class DemoResult:
    path: Path
    truths_path: Path
    events: int
    feedback_embedded: int
    feedback_late: int
    truths: dict[str, Any]


def truths_path(path: Path | str) -> Path:
    """Where the sidecar of a demo log lives: `<out>.truths.json`."""
    return Path(str(path) + ".truths.json")


def generate(
    path: Path | str,
    events: int = 50_000,
    weeks: int = 12,
    seed: int = 0,
    end_date: date | None = None,
) -> DemoResult:
    """Write a demo log to `path` and its planted truths to `<path>.truths.json`.

    `weeks` weeks end in end_date's ISO week (default: today, UTC); events run up to the end
    of end_date. Same arguments (and end_date) give byte-identical files.
    """
    s = sample(events, weeks, seed, end_date)
    path = Path(path)
    lines = write_lines(s, path)
    end = (s.cal.end - timedelta(days=1)).date().isoformat()
    truths = build_truths(s, lines, end)
    side = truths_path(path)
    side.write_text(json.dumps(truths, indent=2) + "\n", encoding="utf-8")
    return DemoResult(path, side, events, lines.embedded, lines.late, truths)

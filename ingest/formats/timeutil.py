"""Timestamps in the four forms real logs use, normalised to timezone-aware UTC datetimes.

OTLP writes nanoseconds since the epoch (decimal strings or numbers), OpenAI unix seconds,
Langfuse ISO-8601 with milliseconds and Z, LangSmith ISO with microseconds and sometimes no zone
(taken as UTC). Each parser returns None for a missing value and raises ValueError for a bad one,
so readers can turn it into a reject with the field name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_unix_nanos(value: object) -> datetime | None:
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a nanosecond timestamp: {value!r}")
    ns = int(value)  # str or int; raises ValueError on junk
    return _EPOCH + timedelta(microseconds=ns // 1000)


def from_unix_seconds(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a unix timestamp: {value!r}")
    return _EPOCH + timedelta(seconds=float(value))  # type: ignore[arg-type]


def from_iso(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not an ISO timestamp: {value!r}")
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_any(value: object) -> datetime | None:
    """ISO string, unix seconds, milliseconds or nanoseconds, told apart by magnitude."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return from_iso(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if number > 1e17:
        return from_unix_nanos(int(number))
    if number > 1e11:
        return _EPOCH + timedelta(milliseconds=number)
    return from_unix_seconds(number)


def millis_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000.0


def file_time(path: Path) -> datetime | None:
    """The file's modification time: the only clock a record without timestamps has."""
    try:
        return datetime.fromtimestamp(int(path.stat().st_mtime), tz=UTC)
    except OSError:
        return None

"""The deterministic sample: an event is in an evaluator's sample when a hash of the event id and
the evaluator's sample key falls below its rate.

The hash is SHA-256 of `"<key>\\x00<event_id>"`, its first 8 bytes read as a number in [0, 1).
So the sample is the same on every run and machine; raising the rate only adds events (every
event below 0.1 is also below 0.2), so what was scored stays scored; and two evaluators with the
same key (`sample_group`, else the evaluator's name) at the same rate see the same events.

`sql` is the same test as a DuckDB condition, so a run can count and cut its sample in the
warehouse without bringing every id into Python; the two agree to the last bit (the tests compare
them on ids placed exactly at the rate).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def position(event_id: str, key: str) -> float:
    """Where an event falls in [0, 1) for this sample key."""
    digest = hashlib.sha256(f"{key}\x00{event_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_sample(event_id: str, key: str, rate: float) -> bool:
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    return position(event_id, key) < rate


def sample(event_ids: Iterable[str], key: str, rate: float) -> list[str]:
    """The ids of `event_ids` in the sample, in their order."""
    if rate >= 1.0:
        return list(event_ids)
    return [e for e in event_ids if in_sample(e, key, rate)]


# 2**64 as a DOUBLE: dividing by a power of two is exact, so `n / 2**64` rounds like Python's.
_TWO_64 = "18446744073709551616.0"


def sql(key: str, rate: float, alias: str = "e") -> tuple[str, list[object]]:
    """`in_sample` over `events AS {alias}` as SQL text and its parameters: the first 16 hex
    digits of the same SHA-256, read as an unsigned 64-bit number."""
    if rate >= 1.0:
        return "TRUE", []
    if rate <= 0.0:
        return "FALSE", []
    return (f"(('0x' || left(sha256(? || chr(0) || {alias}.event_id), 16))::UBIGINT::DOUBLE "
            f"/ {_TWO_64} < ?)", [key, float(rate)])

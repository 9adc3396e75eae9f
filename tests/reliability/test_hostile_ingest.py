"""Hostile input through the real ingest: every good record kept, every bad one rejected, with why.

A seeded generator mixes good lines with every kind of damage seen in real logs. The test knows
which lines are good, so "no good record lost" and "every bad line in rejects, at its line
number" are exact assertions, not a smoke test.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect

BASE = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _good(i: int, rng: random.Random) -> dict:
    return {
        "event_id": f"e{i}",
        "ts": (BASE + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "model": rng.choice(["gpt-4o", "gpt-4o-mini"]),
        "input_messages": [{"role": "user", "content": f"question {i} <script>alert(1)</script>"}],
        "output_messages": [{"role": "assistant", "content": f"answer {i}"}],
        "tokens_in": rng.randint(1, 500),
        "tokens_out": rng.randint(1, 500),
        "tags": ["topic:x"],
    }


# Each damage returns the bytes of a line that must be rejected.
def _bad_lines(i: int, rng: random.Random) -> list[bytes]:
    good = _good(i, rng)
    no_id = {k: v for k, v in good.items() if k != "event_id"}
    no_ts = {k: v for k, v in good.items() if k != "ts"}
    return [
        json.dumps(good).encode()[:-7],  # truncated JSON
        b"{'event_id': 'single quotes'}",
        b"[1, 2, 3]",
        b'"just a string"',
        json.dumps(no_id).encode(),
        json.dumps(no_ts).encode(),
        json.dumps({**good, "tokens_in": "many"}).encode(),
        json.dumps({**good, "tokens_out": 1.5}).encode(),
        json.dumps({**good, "tags": "not-a-list"}).encode(),
        json.dumps({**good, "input_messages": "not-a-list"}).encode(),
        json.dumps({**good, "ts": "yesterday-ish"}).encode(),
        json.dumps({**good, "cost_usd": float("nan")}).encode(),  # NaN token
        json.dumps({**good, "latency_ms": float("inf")}).encode(),  # Infinity token
        json.dumps({**good, "kind": "spaceship"}).encode(),
        json.dumps({**good, "status": "maybe"}).encode(),
        b'{"event_id": "e-bad-utf8", "ts": "2026-11-02T09:00:00Z", '
        b'"input_text": "caf\xc3\x28 \xff"}',
        json.dumps({**good, "event_id": ""}).encode(),
    ]


ODD_TIMESTAMPS = {
    "2026-11-02 11:14:03+0200": dt.datetime(2026, 11, 2, 9, 14, 3, tzinfo=dt.UTC),
    "2026-11-02t09:14:03.5z": dt.datetime(2026, 11, 2, 9, 14, 3, 500000, tzinfo=dt.UTC),
    "2026-11-01T23:14:03-10:00": dt.datetime(2026, 11, 2, 9, 14, 3, tzinfo=dt.UTC),
    "2026-11-02T09:14:03": dt.datetime(2026, 11, 2, 9, 14, 3, tzinfo=dt.UTC),
}


def _build(tmp_path, n_good: int = 600, seed: int = 7):
    rng = random.Random(seed)
    lines: list[bytes] = []
    good_ids: set[str] = set()
    bad_line_nos: set[int] = set()
    either: dict[int, str] = {}  # line -> event_id: kept or rejected, but never a crash
    expected_ts: dict[str, dt.datetime] = {}
    bad_pool = []
    for i in range(n_good):
        rec = _good(i, rng)
        lines.append(json.dumps(rec).encode())
        good_ids.add(rec["event_id"])
        if rng.random() < 0.35:
            bad_pool = bad_pool or _bad_lines(10_000 + i, rng)
            lines.append(bad_pool.pop())
            bad_line_nos.add(len(lines))
    for k, (text, want) in enumerate(ODD_TIMESTAMPS.items()):
        rec = {**_good(20_000 + k, rng), "ts": text}
        lines.append(json.dumps(rec).encode())
        good_ids.add(rec["event_id"])
        expected_ts[rec["event_id"]] = want
    epoch_ms = {**_good(20_100, rng), "ts": 1_793_610_000_000}
    lines.append(json.dumps(epoch_ms).encode())
    good_ids.add(epoch_ms["event_id"])
    expected_ts[epoch_ms["event_id"]] = dt.datetime.fromtimestamp(1_793_610_000, dt.UTC)
    # A 10 MB string is valid: it must be kept whole.
    huge = {
        **_good(30_000, rng),
        "output_messages": [{"role": "assistant", "content": "x" * 10_000_000}],
    }
    lines.append(json.dumps(huge).encode())
    good_ids.add(huge["event_id"])
    # Deep nesting: valid JSON, but a parser may refuse it; either way nothing else is lost.
    deep = {**_good(30_001, rng), "params": "@DEEP@"}
    lines.append(json.dumps(deep).encode().replace(b'"@DEEP@"', b"[" * 5000 + b"]" * 5000))
    either[len(lines)] = deep["event_id"]
    # Same id, different content: the first wins, the second is a reject.
    lines.append(json.dumps({**_good(0, rng), "model": "other-model"}).encode())
    bad_line_nos.add(len(lines))
    # Same id, same content: a duplicate, neither inserted again nor rejected.
    lines.append(next(line for line in lines if line.startswith(b'{"event_id": "e1",')))
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, good_ids, bad_line_nos, either, expected_ts


def test_hostile_lines_are_rejected_and_good_ones_all_kept(tmp_path, db_path):
    path, good_ids, bad_line_nos, either, expected_ts = _build(tmp_path)
    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
        rejects = con.execute("SELECT line_no, reason FROM rejects").fetchall()
        huge_len = con.execute(
            "SELECT length(output_text) FROM events WHERE event_id = 'e30000'"
        ).fetchone()[0]
        ts = dict(con.execute("SELECT event_id, ts FROM events").fetchall())
        first_model = con.execute("SELECT model FROM events WHERE event_id = 'e0'").fetchone()[0]
    rejected_lines = {line for line, _ in rejects}
    assert good_ids <= ids, f"lost good records: {sorted(good_ids - ids)[:10]}"
    unexpected = ids - good_ids - set(either.values())
    assert not unexpected, f"bad records were loaded: {sorted(unexpected)[:10]}"
    assert bad_line_nos <= rejected_lines
    assert rejected_lines <= bad_line_nos | set(either)
    assert all(reason and reason.strip() for _, reason in rejects)
    assert huge_len == 10_000_000
    assert first_model != "other-model"
    for event_id, want in expected_ts.items():
        assert ts[event_id] == want, event_id
    for line in either:
        assert (line in rejected_lines) != (either[line] in ids)


def test_hostile_ingest_twice_changes_nothing(tmp_path, db_path):
    path, *_ = _build(tmp_path, n_good=120, seed=3)
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(path), "--db", str(db_path)])

    def counts():
        with connect(db_path, read_only=True) as con:
            return [
                con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("events", "feedback", "rejects")
            ]

    before = counts()
    copy = tmp_path / "copy" / "hostile.jsonl"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes() + b"\n")  # new hash, same records
    runner.invoke(app, ["ingest", str(path), str(copy), "--db", str(db_path)])
    after = counts()
    assert after[:2] == before[:2]


def test_sql_metacharacters_in_filters_change_only_the_filter(db_path, tmp_path):
    from models.filters import EventFilter, where_sql

    path, *_ = _build(tmp_path, n_good=50, seed=5)
    CliRunner().invoke(app, ["ingest", str(path), "--db", str(db_path)])
    hostile = ["'; DROP TABLE events; --", "%' OR '1'='1", "\\", "_", "%", "e1' --"]
    with connect(db_path) as con:
        total = con.execute("SELECT count(*) FROM events").fetchone()[0]
        for text in hostile:
            for flt in (
                EventFilter(text=text),
                EventFilter(models=(text,)),
                EventFilter(tags=(text,)),
                EventFilter(user_id=text),
            ):
                sql, params = where_sql(flt)
                n = con.execute(f"SELECT count(*) FROM events e WHERE {sql}", params).fetchone()[0]
                assert n == 0, (flt, n)
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == total

"""Which "what moved" flags on the demo data are false: the segments no planted change touches.

Shared by tests/models/test_demo_truths_seeds.py and bench/false_flags.py so the test and the
bench count false flags the same way. A tested segment is *touched* in a comparison when its
events (either week) include traffic a planted change treats differently between the two weeks,
read from the truths sidecar: the switched group in the switch week and the week after (the
switch happens on a Monday morning), the prompt-change group likewise, the new topic from its
launch on (its share grows weekly), and events inside the error-spike window. Every other tested
segment is *null*: nothing was planted in it, so a flag there is a false flag.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from models.trends import core as trends
from models.trends import moved as trends_moved
from models.trends.moved import MovedResult


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def affected_sql(truths: dict, week: int, weeks_back: int = 1) -> tuple[str, list[object]]:
    """SQL over trend_facts t: does this event carry a planted difference between `week` and
    the `weeks_back` weeks before it?"""
    p = truths["planted"]
    parts: list[str] = []
    params: list[object] = []
    for key in ("model_switch", "prompt_change"):
        if p[key]["week"] <= week <= p[key]["week"] + weeks_back:
            parts.append("list_contains(t.tags, ?)")
            params.append(p[key]["affected_tag"])
    if week >= p["new_topic"]["week"]:
        parts.append("list_contains(t.tags, ?)")
        params.append(p["new_topic"]["tag"])
    spike = p["error_spike"]
    if spike["week"] <= week <= spike["week"] + weeks_back:
        parts.append("(t.ts >= ? AND t.ts < ?)")
        params += [_ts(spike["start"]), _ts(spike["end"])]
    return (" OR ".join(parts) or "FALSE"), params


def touched_segments(
    con: duckdb.DuckDBPyConnection,
    truths: dict,
    week: int,
    start: dt.date,
    end: dt.date,
    weeks_back: int = 1,
) -> set[tuple]:
    """Keys (dims, model, prompt_version, tag) of segments holding any affected event."""
    aff, params = affected_sql(truths, week, weeks_back)
    rows = con.execute(
        f"""
        WITH base AS (
            SELECT coalesce(t.model, '(none)') AS model,
                coalesce(t.prompt_version, '(none)') AS pv, t.tags, ({aff}) AS aff
            FROM trend_facts t
            WHERE t.kind = 'llm' AND t.ts >= ? AND t.ts < ?
        ),
        tagged AS (
            SELECT model, pv, aff,
                unnest(CASE WHEN len(tags) > 0 THEN tags ELSE ['(no tag)'] END) AS tag
            FROM base
        )
        SELECT 'model', model, NULL, NULL FROM base GROUP BY model HAVING bool_or(aff)
        UNION ALL
        SELECT 'prompt version', NULL, pv, NULL FROM base GROUP BY pv HAVING bool_or(aff)
        UNION ALL
        SELECT 'tag', NULL, NULL, tag FROM tagged GROUP BY tag HAVING bool_or(aff)
        UNION ALL
        SELECT ?, model, pv, tag FROM tagged GROUP BY model, pv, tag HAVING bool_or(aff)
        """,
        [*params, trends.day_start(start), trends.day_start(end), trends_moved.COMBO],
    ).fetchall()
    return {tuple(r) for r in rows}


def classify(result: MovedResult, hit: set[tuple]) -> list[tuple[dict, bool]]:
    """Each tested segment of a "what moved" result with whether a planted change touches it.

    A combination compared with its predecessor's traffic (a new model or prompt took over a
    tag) is touched when its tag is: the predecessor traffic is the tag's, from other segments.
    """
    tags_hit = {k[3] for k in hit if k[0] == "tag"}
    out = []
    for r in result.table.filter("tested").iter_rows(named=True):
        key = (r["dims"], r["model"], r["prompt_version"], r["tag"])
        touched = key in hit or (
            r["dims"] == trends_moved.COMBO
            and r["reference"] != trends_moved.SAME
            and r["tag"] in tags_hit
        )
        out.append((r, touched))
    return out

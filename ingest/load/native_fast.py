"""The fast path of native parsing: one json_transform per line, straight to typed rows.

Most lines of a real log need no explanation, so they should cost one parse: json_transform
into a struct of every known key (typed), plus json_keys for the keys no column holds. A line
goes this way only when it is an event or feedback object and every check passes; any other
line is left to native.slow_statements, which parses it key by key to say what is wrong.

json_transform's conversions are lenient (a number or object given for a string key keeps its
JSON text; numeric strings and booleans count as numbers) and the slow path applies the same
ones, so a line is read the same whichever path takes it. Only number and list conversions can
fail, to NULL: a NULL there is accepted only when the JSON held null.
"""

from __future__ import annotations

from ingest.load.native import (
    BAD_UTF8,
    EVENT_COLUMNS,
    EVENT_FIELDS,
    FEEDBACK_FIELDS,
    FEEDBACK_ID_PARTS,
    FEEDBACK_KINDS,
    FEEDBACK_SOURCES,
    KINDS,
    KNOWN_EVENT_KEYS,
    default_feedback_kind,
    list_sql,
)

_TYPES = {"str": "VARCHAR", "int": "DOUBLE", "num": "DOUBLE", "ts": "VARCHAR", "obj": "JSON",
          "msgs": "JSON", "tags": "VARCHAR[]", "value": "DOUBLE"}  # fmt: skip
FIELDS = EVENT_FIELDS | {"feedback": "obj", "type": "str"} | FEEDBACK_FIELDS


def _converted(key: str) -> str:
    """True unless json_transform turned a non-null value of `key` into NULL."""
    # CASE, not OR: each WHEN runs only on the rows the ones before it left.
    return (
        f"CASE WHEN s.{key} IS NOT NULL THEN true WHEN NOT list_contains(keys, '{key}') THEN true "
        f"ELSE json_extract(line, '$.{key}')::VARCHAR = 'null' END"
    )


_PARSED = """(SELECT line_no, line, s,
                    CASE WHEN s IS NOT NULL THEN TRY(json_keys(line)) END AS keys
             FROM (SELECT line_no, line, TRY(json_transform(line, '{struct}')) AS s
                   FROM {chunk} WHERE {where}))"""


def _struct(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": "{_TYPES[t]}"' for k, t in fields.items()) + "}"


def _event_insert(chunk: str) -> str:
    known = list_sql(KNOWN_EVENT_KEYS)
    checks = [
        "coalesce(s.type, 'event') = 'event'", "s.event_id <> ''",
        "ts IS NOT NULL", "(s.ts_end IS NULL OR ts_end IS NOT NULL)",
        f"(s.kind IS NULL OR s.kind IN {KINDS})",
        "(s.status IS NULL OR s.status IN ('ok', 'error'))",
        "(s.params IS NULL OR starts_with(s.params, '{'))",
        "(s.input_messages IS NULL OR starts_with(s.input_messages, '['))",
        "(s.output_messages IS NULL OR starts_with(s.output_messages, '['))",
        "(s.feedback IS NULL OR starts_with(s.feedback, '['))",
    ]  # fmt: skip
    for k, t in EVENT_FIELDS.items():
        if t in ("int", "num", "tags"):
            checks.append(_converted(k))
        if t in ("int", "num"):
            checks.append(f"(s.{k} IS NULL OR isfinite(s.{k}))")
        if t == "int":
            checks.append(f"(s.{k} IS NULL OR s.{k} = floor(s.{k}))")
    values = {k: f"s.{k}" for k in EVENT_FIELDS}
    values.update({k: f"CAST(s.{k} AS BIGINT)" for k, t in EVENT_FIELDS.items() if t == "int"})
    values.update(
        ts="ts", ts_end="ts_end", kind="coalesce(s.kind, 'llm')",
        status="coalesce(s.status, CASE WHEN s.error_type IS NOT NULL THEN 'error' ELSE 'ok' END)",
        source_format="coalesce(s.source_format, 'native')",
        # docs/schema.md: a cost the line gives is 'provided' unless it says otherwise.
        cost_source="CASE WHEN s.cost_source IS NOT NULL THEN s.cost_source "
                    "WHEN s.cost_usd IS NOT NULL THEN 'provided' END",
        # CASE, not coalesce: DuckDB evaluates every argument of coalesce on every row.
        input_text="CASE WHEN s.input_text IS NOT NULL THEN s.input_text "
                   "ELSE rd_input_text(s.input_messages) END",
        output_text="CASE WHEN s.output_text IS NOT NULL THEN s.output_text "
                    "ELSE rd_output_text(s.output_messages) END",
        raw="CASE WHEN unknown_keys IS NOT NULL THEN to_json(map(unknown_keys, list_transform("
            "unknown_keys, lambda k: json_extract(line, rd_pointer(k))))) END",
    )  # fmt: skip
    cols = ", ".join(f"{values[c]} AS {c}" for c in EVENT_COLUMNS)
    where = f"starts_with(line, '{{') AND NOT contains(line, '{BAD_UTF8}')"
    parsed = _PARSED.format(struct=_struct(EVENT_FIELDS | {"feedback": "obj", "type": "str"}),
                            chunk=chunk, where=where)  # fmt: skip
    return f"""
        INSERT INTO s_events
        SELECT line_no, {cols}, s.feedback FROM (
            SELECT *, rd_ts_any(s.ts) AS ts, rd_ts_any(s.ts_end) AS ts_end,
                   CASE WHEN NOT list_has_all({known}, keys) THEN list_distinct(
                       list_filter(keys, lambda k: NOT list_contains({known}, k))) END
                       AS unknown_keys
            FROM {parsed} WHERE coalesce(s.type, 'event') = 'event')
        WHERE {" AND ".join(checks)}
    """


def _feedback_insert(source_sql: str, implied: bool) -> str:
    """Feedback rows from `source_sql` (line_no, pos, line, s, keys[, implied_event_id])."""
    kind = f"coalesce(s.kind, {default_feedback_kind('s.name')})"
    source = (
        "coalesce(s.source, CASE WHEN kind IN ('vote', 'action', 'correction') THEN 'user' END)"
    )
    values = {k: f"s.{k}" for k in FEEDBACK_FIELDS}
    values.update(kind="kind", source="source", ts="fts")
    args = ", ".join(values[k] for k in FEEDBACK_ID_PARTS)
    checks = [
        "coalesce(s.name, '') <> ''", f"kind IN {FEEDBACK_KINDS}", f"source IN {FEEDBACK_SOURCES}",
        "(s.value IS NULL OR isfinite(s.value))", _converted("value"),
        "(s.ts IS NULL OR fts IS NOT NULL)", "(s.event_id IS NOT NULL OR s.trace_id IS NOT NULL)",
    ]  # fmt: skip
    for k, t in FEEDBACK_FIELDS.items():  # the m006 columns: cost_usd, queue_id, tags
        if t in ("int", "num", "tags"):
            checks.append(_converted(k))
        if t in ("int", "num"):
            checks.append(f"(s.{k} IS NULL OR isfinite(s.{k}))")
        if t == "int":
            checks.append(f"(s.{k} IS NULL OR s.{k} = floor(s.{k}))")
    if implied:
        checks.remove("(s.event_id IS NOT NULL OR s.trace_id IS NOT NULL)")
        checks.append("(s.event_id IS NULL OR s.event_id = implied_event_id)")
        values["event_id"] = "implied_event_id"
        args = ", ".join(values[k] for k in FEEDBACK_ID_PARTS)
    return f"""
        INSERT INTO s_feedback
        SELECT line_no, pos,
               CASE WHEN s.feedback_id IS NOT NULL THEN s.feedback_id
                    ELSE rd_feedback_id({args}) END, {values["event_id"]},
               s.trace_id, s.name, kind, s.value, s.label, source, s.comment, s.correction,
               s.author, fts, 'native', s.evaluator_version, s.judge_model, s.cost_usd,
               CAST(s.queue_id AS BIGINT), s.tags
        FROM (SELECT *, {source} AS source FROM (
                SELECT *, {kind} AS kind, rd_ts_any(s.ts) AS fts FROM {source_sql}))
        WHERE {" AND ".join(checks)}
    """


def fast_statements(chunk: str) -> list[str]:
    """Events and feedback lines of the chunk that need no explanation, one parse each.

    Run with filter_pushdown disabled (see parse_chunk): pushing the checks below the
    projection would copy json_transform into each of them.
    """
    where = (f"starts_with(line, '{{') AND NOT contains(line, '{BAD_UTF8}') "
             "AND contains(line, '\"type\"')")  # fmt: skip
    lines = _PARSED.format(struct=_struct(FEEDBACK_FIELDS | {"type": "str"}), chunk=chunk,
                           where=where)  # fmt: skip
    feedback_lines = f"(SELECT *, 0 AS pos FROM {lines} WHERE s.type = 'feedback')"
    return [_event_insert(chunk), _feedback_insert(feedback_lines, implied=False)]


def embedded_statements() -> list[str]:
    """Embedded feedback items of every staged event: the fast ones, then the rest for the slow
    path (native.feedback_statements), as table _items_rest."""
    struct = _struct(FEEDBACK_FIELDS)
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE _items AS
        SELECT line_no, pos, line, implied_event_id, TRY(json_transform(line, '{struct}')) AS s,
               CASE WHEN starts_with(line, '{{') THEN TRY(json_keys(line)) END AS keys
        FROM (SELECT line_no, event_id AS implied_event_id,
                     unnest(items) AS line, generate_subscripts(items, 1) AS pos
              FROM (SELECT line_no, event_id, json_extract(feedback_json, '$[*]') AS items
                    FROM s_events WHERE feedback_json IS NOT NULL AND feedback_json <> '[]'))
        """,
        _feedback_insert("(SELECT * FROM _items WHERE starts_with(line, '{'))", implied=True),
        """
        CREATE OR REPLACE TEMP TABLE _items_rest AS
        SELECT i.line_no, i.pos, i.line AS src, i.implied_event_id FROM _items i
        -- Only this batch's lines of s_feedback (it grows with every chunk of the file).
        ANTI JOIN (SELECT line_no, pos FROM s_feedback WHERE pos > 0
                   AND line_no >= (SELECT min(line_no) FROM _items)) f USING (line_no, pos)
        """,
    ]

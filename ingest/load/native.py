"""Parsing native JSONL lines into typed staging rows with vectorised DuckDB SQL.

The hot path of every native load: a chunk of lines (an Arrow table `line_no, line`) becomes
staged `events`, `feedback` and `rejects` rows through a few INSERT ... SELECT statements, so
DuckDB does the work on all its threads and no Python runs per line. Two rules keep it fast:
each line is parsed once (one json_extract with the list of every known path; the JSON type of a
value is read from its first character, since json_extract returns minified JSON), and checks
are written in layers of subqueries over plain columns, never as macros nested in macros (which
DuckDB expands into trees that take seconds to bind). Every check a line can fail yields a
reason naming the key, so a bad line is a reject with a reason and never stops the chunk.
docs/native-format.md describes what is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only in annotations: a worker process reading OTLP never loads duckdb
    import duckdb

# Marks bytes that were not UTF-8: the reader replaces each bad sequence with this
# noncharacter (it never appears in real text), and such lines are rejected.
BAD_UTF8 = "\uffff"
REJECT_TEXT_CHARS = 2000

KINDS = ("llm", "tool", "agent", "chain", "retrieval", "embedding", "other")
FEEDBACK_KINDS = ("vote", "action", "correction", "score", "label")
FEEDBACK_SOURCES = ("user", "reviewer", "llm_judge", "code")

# Order of the staged events columns = the warehouse `events` columns minus file_id/ingested_at.
EVENT_COLUMNS = (
    "event_id", "trace_id", "parent_id", "ts", "ts_end", "kind", "name", "provider", "model",
    "model_requested", "prompt_name", "prompt_version", "input_messages", "output_messages",
    "input_text", "output_text", "params", "tokens_in", "tokens_out", "tokens_cache_read",
    "tokens_reasoning", "cost_usd", "cost_source", "latency_ms", "ttft_ms", "status",
    "error_type", "error_message", "user_id", "session_id", "tags", "environment", "rerun_of",
    "source_format", "raw",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "feedback_id", "event_id", "trace_id", "name", "kind", "value", "label", "source",
    "comment", "correction", "author", "ts", "source_format",
    # An evaluator's or a reviewer's row (ingest/migrations/m006_evaluations.py).
    "evaluator_version", "judge_model", "cost_usd", "queue_id", "tags",
)  # fmt: skip
# Not the m006 columns: a row's derived id stays what it was before they existed.
FEEDBACK_ID_PARTS = (
    "event_id", "trace_id", "name", "kind", "value", "label", "source", "comment",
    "correction", "author", "ts",
)  # fmt: skip

# How each key of a line is read: str (numbers become text), int, num, ts, obj, msgs, tags.
EVENT_FIELDS: dict[str, str] = {
    "event_id": "str", "ts": "ts", "ts_end": "ts", "params": "obj", "tags": "tags",
    "input_messages": "msgs", "output_messages": "msgs",
    **{k: "str" for k in (
        "trace_id", "parent_id", "name", "provider", "model", "model_requested", "prompt_name",
        "prompt_version", "input_text", "output_text", "cost_source", "error_type",
        "error_message", "user_id", "session_id", "environment", "rerun_of", "source_format",
        "kind", "status")},
    **{k: "int" for k in ("tokens_in", "tokens_out", "tokens_cache_read", "tokens_reasoning")},
    **{k: "num" for k in ("cost_usd", "latency_ms", "ttft_ms")},
}  # fmt: skip
FEEDBACK_FIELDS: dict[str, str] = {
    **{k: "str" for k in ("feedback_id", "event_id", "trace_id", "name", "kind", "label",
                          "source", "comment", "correction", "author", "evaluator_version",
                          "judge_model")},
    "value": "value", "ts": "ts", "cost_usd": "num", "queue_id": "int", "tags": "tags",
}  # fmt: skip
# Keys a native event line may carry that are not stored in `raw`.
KNOWN_EVENT_KEYS = tuple(EVENT_FIELDS) + ("type", "feedback")
# Every path extracted from a line, in one parse: event keys, feedback-line keys, type, feedback.
LINE_PATHS = tuple(dict.fromkeys((*EVENT_FIELDS, *FEEDBACK_FIELDS, "type", "feedback")))
FEEDBACK_PATHS = tuple(FEEDBACK_FIELDS)

_MSG_TYPE = """'[{"role": "VARCHAR", "content": "JSON"}]'"""

MACROS = rf"""
-- JSON type of a minified JSON value from its first character (no parse): S(tring), O(bject),
-- A(rray), B(oolean), N(ull), D (number, including NaN / Infinity); NULL when absent.
CREATE OR REPLACE MACRO rd_t(v) AS CASE WHEN v IS NOT NULL THEN CASE left(v, 1)
    WHEN '"' THEN 'S' WHEN '{{' THEN 'O' WHEN '[' THEN 'A' WHEN 't' THEN 'B' WHEN 'f' THEN 'B'
    WHEN 'n' THEN 'N' ELSE 'D' END END;
CREATE OR REPLACE MACRO rd_ts_text(s) AS coalesce(
    TRY_CAST(s AS TIMESTAMPTZ),
    TRY_CAST(upper(s) AS TIMESTAMPTZ),
    TRY_CAST(regexp_replace(upper(s),
        '^(\d{{4}})(\d{{2}})(\d{{2}})T(\d{{2}})(\d{{2}})(\d{{2}})', '\1-\2-\3T\4:\5:\6')
        AS TIMESTAMPTZ),
    TRY_CAST(regexp_replace(regexp_replace(upper(s), '(\.\d{{6}})\d+', '\1'),
        '\s+([+-]\d{{2}}:?\d{{2}}|Z)$', '\1') AS TIMESTAMPTZ));
CREATE OR REPLACE MACRO rd_epoch(x) AS TRY(to_timestamp(CASE
    WHEN abs(x) >= 1e17 THEN x / 1e9 WHEN abs(x) >= 1e14 THEN x / 1e6
    WHEN abs(x) >= 1e11 THEN x / 1e3 ELSE x END));
-- A timestamp from text: ISO-8601 in its odd forms, or Unix time (s, ms, µs or ns).
-- The plain cast first, alone: coalesce evaluates all its arguments on every row, CASE does not.
CREATE OR REPLACE MACRO rd_ts_any(s) AS CASE
    WHEN TRY_CAST(s AS TIMESTAMPTZ) IS NOT NULL THEN TRY_CAST(s AS TIMESTAMPTZ)
    ELSE coalesce(rd_ts_text(trim(s)),
        CASE WHEN isfinite(TRY_CAST(s AS DOUBLE)) THEN rd_epoch(TRY_CAST(s AS DOUBLE)) END) END;
-- Text of a message's content (JSON): a string, or the text parts of a list of parts.
CREATE OR REPLACE MACRO rd_content(c) AS CASE left(c, 1)
    WHEN '"' THEN c->>'$'
    WHEN '[' THEN array_to_string(list_filter(
        list_transform(json_extract(c, '$[*]'),
                       lambda p: CASE WHEN left(p, 1) = '"' THEN p->>'$' ELSE p->>'$.text' END),
        lambda x: x IS NOT NULL), '') END;
CREATE OR REPLACE MACRO rd_input_text(msgs) AS rd_content(list_last(list_filter(
    from_json(msgs, {_MSG_TYPE}), lambda m: m.role = 'user')).content);
CREATE OR REPLACE MACRO rd_output_text(msgs) AS rd_content(json_extract(msgs, '$[0].content'));
CREATE OR REPLACE MACRO rd_pointer(k) AS '/' || replace(replace(k, '~', '~0'), '/', '~1');
CREATE OR REPLACE MACRO rd_clip(s) AS rtrim(left(s, {REJECT_TEXT_CHARS}), chr(10) || chr(13));
CREATE OR REPLACE MACRO rd_feedback_id(e, tr, n, k, v, lb, src, cm, cr, au, t) AS
    'fb_' || md5(to_json([e, tr, n, k, v::VARCHAR, lb, src, cm, cr, au, t::VARCHAR]));
"""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def list_sql(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _layers(fields: dict[str, str], paths: tuple[str, ...], j: str) -> tuple[str, str]:
    """Select lists of two layers over `j` (the json_extract list): raw values, then parsed.

    Layer 1 gives v_<key> (JSON text) and t_<key> (type letter); layer 2 adds x_<key>, the
    value parsed to its column type (NULL when absent or unusable), and, for messages, the list
    of {role, content} structs.
    """
    one, two = [], []
    for key, kind in fields.items():
        v = f"{j}[{paths.index(key) + 1}]"
        one += [f"{v} AS v_{key}", f"rd_t({v}) AS t_{key}"]
        v, t = f"v_{key}", f"t_{key}"
        # The same lenient conversions as json_transform in the fast path (see fast_insert).
        if kind == "str":
            x = f"CASE {t} WHEN 'S' THEN {v}->>'$' WHEN 'N' THEN NULL ELSE {v}::VARCHAR END"
        elif kind in ("int", "num", "value"):
            x = (f"CASE {t} WHEN 'D' THEN TRY_CAST({v} AS DOUBLE) "
                 f"WHEN 'S' THEN TRY_CAST(trim({v}->>'$') AS DOUBLE) "
                 f"WHEN 'B' THEN CASE WHEN {v} = 'true' THEN 1.0 ELSE 0.0 END END")  # fmt: skip
        elif kind == "ts":
            x = f"CASE {t} WHEN 'S' THEN {v}->>'$' WHEN 'D' THEN {v}::VARCHAR END"
        elif kind == "msgs":
            x = f"CASE {t} WHEN 'A' THEN {v} END"
        elif kind == "tags":
            x = f"CASE {t} WHEN 'A' THEN {v}::VARCHAR[] END"
        else:  # obj
            x = "NULL"
        two.append(f"{x} AS x_{key}")
    return ", ".join(one), ", ".join(two)


def _present(key: str) -> str:
    return f"coalesce(t_{key}, 'N') <> 'N'"


def _checks(fields: dict[str, str]) -> dict[str, str]:
    """Per key, SQL yielding a reason (or NULL) over the layer-2 columns."""
    out = {}
    for key, kind in fields.items():
        p, t, x = _present(key), f"t_{key}", f"x_{key}"
        if kind == "str":
            continue
        if kind == "int":
            bad = f"{p} AND ({x} IS NULL OR NOT isfinite({x}) OR {x} <> floor({x}))"
            what = "expected an integer"
        elif kind in ("num", "value"):
            bad, what = f"{p} AND ({x} IS NULL OR NOT isfinite({x}))", "expected a finite number"
        elif kind == "ts":
            # The parsed timestamp is the layer-3 column ts_<key>.
            bad, what = f"{p} AND ts_{key} IS NULL", "not an ISO-8601 timestamp or Unix time"
        elif kind == "obj":
            bad, what = f"{p} AND {t} <> 'O'", "expected an object"
        elif kind == "msgs":
            bad, what = f"{p} AND {t} <> 'A'", "expected an array of messages"
        else:  # tags
            bad = f"{p} AND {t} <> 'A'"
            what = "expected an array of strings"
        out[key] = f"CASE WHEN {bad} THEN {_q(key + ': ' + what)} END"
    return out


def _ts_cols(fields: dict[str, str]) -> str:
    cols = []
    for key, kind in fields.items():
        if kind == "ts":
            x, t = f"x_{key}", f"t_{key}"
            cols.append(f"CASE WHEN {t} IN ('S', 'D') THEN rd_ts_any({x}) END AS ts_{key}")
    return ", ".join(cols)


def _reason(checks: list[str]) -> str:
    return (
        "array_to_string(list_filter([" + ", ".join(checks) + "], lambda r: r IS NOT NULL), '; ')"
    )


def _event_select() -> str:
    """Layer 3 over an event line's layer-2 columns: (line_no, line, reason, EVENT_COLUMNS)."""
    c = _checks(EVENT_FIELDS)
    c["event_id"] = (
        "CASE WHEN NOT " + _present("event_id") + " THEN 'missing event_id' "
        "WHEN t_event_id NOT IN ('S', 'D') THEN 'event_id: expected a string' "
        "WHEN x_event_id = '' THEN 'event_id: empty' END"
    )
    c["ts"] = f"CASE WHEN NOT {_present('ts')} THEN 'missing ts' ELSE {c['ts']} END"
    c["kind"] = (f"CASE WHEN x_kind NOT IN {KINDS} "
                 f"THEN {_q('kind: expected one of ' + ', '.join(KINDS))} END")  # fmt: skip
    c["status"] = (
        "CASE WHEN x_status NOT IN ('ok', 'error') THEN 'status: expected ok or error' END"
    )
    c["feedback"] = (
        "CASE WHEN coalesce(t_feedback, 'N') NOT IN ('N', 'A') "
        "THEN 'feedback: expected an array' END"
    )
    values = {k: f"x_{k}" for k, kind in EVENT_FIELDS.items() if kind in ("str", "num")}
    values.update({k: f"CAST(x_{k} AS BIGINT)" for k, kd in EVENT_FIELDS.items() if kd == "int"})
    values.update({k: f"ts_{k}" for k, kd in EVENT_FIELDS.items() if kd == "ts"})
    for k in ("params", "input_messages", "output_messages"):
        values[k] = f"CASE WHEN {_present(k)} THEN v_{k} END"
    values["kind"] = "coalesce(x_kind, 'llm')"
    values["status"] = (
        "coalesce(x_status, CASE WHEN x_error_type IS NOT NULL THEN 'error' ELSE 'ok' END)"
    )
    values["source_format"] = "coalesce(x_source_format, 'native')"
    values["cost_source"] = (
        "CASE WHEN x_cost_source IS NOT NULL THEN x_cost_source "
        "WHEN x_cost_usd IS NOT NULL THEN 'provided' END"
    )
    values["input_text"] = "coalesce(x_input_text, rd_input_text(x_input_messages))"
    values["output_text"] = "coalesce(x_output_text, rd_output_text(x_output_messages))"
    values["tags"] = "x_tags"
    values["raw"] = (
        "CASE WHEN len(unknown_keys) > 0 THEN to_json(map(unknown_keys, list_transform("
        "unknown_keys, lambda k: json_extract(line, rd_pointer(k))))) END"
    )
    cols = ", ".join(f"{values[k]} AS {k}" for k in EVENT_COLUMNS)
    return f"line_no, line, {_reason(list(c.values()))} AS reason, {cols}, v_feedback"


def default_feedback_kind(name: str) -> str:
    """The kind a feedback row has when it names none, from its name (docs/schema.md)."""
    return (
        f"CASE {name} WHEN 'thumbs' THEN 'vote' WHEN 'rating' THEN 'vote' "
        "WHEN 'regenerated' THEN 'action' WHEN 'copied' THEN 'action' WHEN 'shared' THEN 'action' "
        "WHEN 'edited' THEN 'action' WHEN 'correction' THEN 'correction' "
        "WHEN 'verdict' THEN 'label' END"
    )


def _feedback_select(implied_event: bool) -> str:
    """Layer 3 over a feedback row's layer-2 columns: (line_no, pos, src, reason, columns)."""
    c = _checks(FEEDBACK_FIELDS)
    kind = f"coalesce(x_kind, {default_feedback_kind('x_name')})"
    source = (f"coalesce(x_source, CASE WHEN {kind} IN ('vote', 'action', 'correction') "
              "THEN 'user' END)")  # fmt: skip
    event_id = "implied_event_id" if implied_event else "x_event_id"
    extra = [
        "CASE WHEN src_type <> 'O' THEN 'not a JSON object' END",
        "CASE WHEN coalesce(x_name, '') = '' THEN 'missing name' END",
        f"CASE WHEN {kind} IS NULL THEN 'missing kind' WHEN {kind} NOT IN {FEEDBACK_KINDS} "
        f"THEN {_q('kind: expected one of ' + ', '.join(FEEDBACK_KINDS))} END",
        f"CASE WHEN {source} IS NULL THEN 'missing source' WHEN {source} NOT IN "
        f"{FEEDBACK_SOURCES} THEN "
        f"{_q('source: expected one of ' + ', '.join(FEEDBACK_SOURCES))} END",
        f"CASE WHEN {event_id} IS NULL AND x_trace_id IS NULL "
        "THEN 'missing event_id (or trace_id)' END",
    ]
    if implied_event:
        extra.append(
            "CASE WHEN x_event_id <> implied_event_id "
            "THEN 'event_id: differs from the event it is embedded in' END"
        )
    values = {k: f"x_{k}" for k in FEEDBACK_FIELDS}
    values.update(event_id=event_id, kind=kind, source=source, ts="ts_ts",
                  source_format="'native'", queue_id="CAST(x_queue_id AS BIGINT)")  # fmt: skip
    args = ", ".join(values[k] for k in FEEDBACK_ID_PARTS)
    values["feedback_id"] = (
        f"CASE WHEN x_feedback_id IS NOT NULL THEN x_feedback_id ELSE rd_feedback_id({args}) END"
    )
    cols = ", ".join(f"{values[k]} AS {k}" for k in FEEDBACK_COLUMNS)
    return f"line_no, pos, src, {_reason(list(c.values()) + extra)} AS reason, {cols}"


def leftover(chunk: str, first: int, last: int) -> str:
    """Lines of the chunk the fast path did not take (they go through slow_statements)."""
    return f"""
        CREATE OR REPLACE TEMP TABLE _rest AS
        SELECT c.line_no, c.line FROM {chunk} c
        ANTI JOIN (SELECT line_no FROM s_events WHERE line_no BETWEEN {first} AND {last}
                   UNION ALL
                   SELECT line_no FROM s_feedback WHERE line_no BETWEEN {first} AND {last}) e
        USING (line_no)
    """


def slow_statements(rest: str) -> list[str]:
    """Every line the fast path left: classify, explain each failure, load what is good."""
    ev1, ev2 = _layers(EVENT_FIELDS | {"feedback": "obj"}, LINE_PATHS, "j")
    fb1, fb2 = _layers(FEEDBACK_FIELDS, LINE_PATHS, "j")
    known = list_sql(KNOWN_EVENT_KEYS)
    paths = list_sql(tuple(f"$.{p}" for p in LINE_PATHS))
    type_idx = LINE_PATHS.index("type") + 1
    ev_cols = ", ".join(EVENT_COLUMNS)
    ev_ts, fb_ts = _ts_cols(EVENT_FIELDS), _ts_cols(FEEDBACK_FIELDS)
    return [
        # A line that is not an object, or not JSON, has no j.
        f"""
        CREATE OR REPLACE TEMP TABLE _p AS
        SELECT line_no, line, j,
               CASE WHEN j IS NULL THEN NULL
                    WHEN rd_t(j[{type_idx}]) IS NULL OR rd_t(j[{type_idx}]) = 'N' THEN 'event'
                    WHEN rd_t(j[{type_idx}]) = 'S' THEN j[{type_idx}]->>'$'
                    ELSE '?' END AS line_type
        FROM (SELECT line_no, line,
                     CASE WHEN NOT contains(line, '{BAD_UTF8}') AND starts_with(ltrim(line), '{{')
                          THEN TRY(json_extract(line, {paths})) END AS j
              FROM {rest}
              -- blank lines are skipped; trim() is slow, so only short lines are trimmed
              WHERE strlen(line) > 16 OR trim(line, chr(32) || chr(9) || chr(10) || chr(13)) <> '')
        """,
        f"""
        INSERT INTO s_rejects
        SELECT line_no, CASE
            WHEN j IS NOT NULL THEN 'type: expected "event" or "feedback"'
            WHEN contains(line, '{BAD_UTF8}') THEN 'invalid UTF-8'
            WHEN json_valid(line) THEN 'not a JSON object'
            ELSE 'malformed JSON' END, rd_clip(line)
        FROM _p WHERE line_type IS NULL OR line_type NOT IN ('event', 'feedback')
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _ev AS
        SELECT {_event_select()} FROM (
            SELECT *, {ev_ts} FROM (
                SELECT *, {ev2} FROM (
                    SELECT line_no, line, {ev1},
                           list_distinct(list_filter(TRY(json_keys(line)),
                                         lambda k: NOT list_contains({known}, k))) AS unknown_keys
                    FROM _p WHERE line_type = 'event')))
        """,
        "INSERT INTO s_rejects SELECT line_no, reason, rd_clip(line) FROM _ev WHERE reason <> ''",
        f"INSERT INTO s_events SELECT line_no, {ev_cols}, v_feedback FROM _ev WHERE reason = ''",
        f"""
        INSERT INTO s_feedback_all
        SELECT {_feedback_select(False)} FROM (
            SELECT *, {fb_ts} FROM (
                SELECT *, {fb2} FROM (
                    SELECT line_no, 0 AS pos, line AS src, 'O' AS src_type, {fb1}
                    FROM _p WHERE line_type = 'feedback')))
        """,
    ]


def feedback_statements() -> list[str]:
    """The slow path of embedded feedback (after native_fast.embedded_statements), its rejects,
    the good rows, and clearing the work table: four statements, run by native_parse.finish."""
    fe1, fe2 = _layers(FEEDBACK_FIELDS, FEEDBACK_PATHS, "fj")
    fpaths = list_sql(tuple(f"$.{p}" for p in FEEDBACK_PATHS))
    fb_cols = ", ".join(FEEDBACK_COLUMNS)
    return [
        f"""
        INSERT INTO s_feedback_all
        SELECT {_feedback_select(True)} FROM (
            SELECT *, {_ts_cols(FEEDBACK_FIELDS)} FROM (
                SELECT *, {fe2} FROM (
                    SELECT line_no, pos, src, rd_t(src) AS src_type, implied_event_id, {fe1}
                    FROM (SELECT *, TRY(json_extract(src, {fpaths})) AS fj FROM _items_rest))))
        """,
        """
        INSERT INTO s_rejects
        SELECT line_no, CASE WHEN pos = 0 THEN reason
                             ELSE 'feedback[' || (pos - 1) || ']: ' || reason END, rd_clip(src)
        FROM s_feedback_all WHERE reason <> ''
        """,
        f"INSERT INTO s_feedback SELECT line_no, pos, {fb_cols} FROM s_feedback_all "
        "WHERE reason = ''",
        "DELETE FROM s_feedback_all",
    ]


_FEEDBACK_EXTRA_SQL = (
    "evaluator_version VARCHAR, judge_model VARCHAR, cost_usd DOUBLE, queue_id BIGINT, "
    "tags VARCHAR[]"
)


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS)
    con.execute(
        """
        CREATE TABLE s_rejects (line_no BIGINT, reason VARCHAR, raw_text VARCHAR);
        CREATE TABLE s_events (line_no BIGINT, event_id VARCHAR, trace_id VARCHAR,
            parent_id VARCHAR, ts TIMESTAMPTZ, ts_end TIMESTAMPTZ, kind VARCHAR, name VARCHAR,
            provider VARCHAR, model VARCHAR, model_requested VARCHAR, prompt_name VARCHAR,
            prompt_version VARCHAR, input_messages JSON, output_messages JSON,
            input_text VARCHAR, output_text VARCHAR, params JSON, tokens_in BIGINT,
            tokens_out BIGINT, tokens_cache_read BIGINT, tokens_reasoning BIGINT,
            cost_usd DOUBLE, cost_source VARCHAR, latency_ms DOUBLE, ttft_ms DOUBLE,
            status VARCHAR, error_type VARCHAR, error_message VARCHAR, user_id VARCHAR,
            session_id VARCHAR, tags VARCHAR[], environment VARCHAR, rerun_of VARCHAR,
            source_format VARCHAR, raw JSON, feedback_json JSON);
        CREATE TABLE s_feedback (line_no BIGINT, pos INTEGER, feedback_id VARCHAR,
            event_id VARCHAR, trace_id VARCHAR, name VARCHAR, kind VARCHAR, value DOUBLE,
            label VARCHAR, source VARCHAR, comment VARCHAR, correction VARCHAR, author VARCHAR,
            ts TIMESTAMPTZ, source_format VARCHAR, {FEEDBACK_EXTRA});
        CREATE TABLE s_feedback_all (line_no BIGINT, pos INTEGER, src VARCHAR, reason VARCHAR,
            feedback_id VARCHAR, event_id VARCHAR, trace_id VARCHAR, name VARCHAR, kind VARCHAR,
            value DOUBLE, label VARCHAR, source VARCHAR, comment VARCHAR, correction VARCHAR,
            author VARCHAR, ts TIMESTAMPTZ, source_format VARCHAR, {FEEDBACK_EXTRA});
        """.replace("{FEEDBACK_EXTRA}", _FEEDBACK_EXTRA_SQL)
    )

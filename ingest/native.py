"""Parsing native JSONL lines into typed staging rows with vectorised DuckDB SQL.

The hot path of every native load: a chunk of lines (an Arrow table `line_no, line`) is turned
into staged `events`, `feedback` and `rejects` rows by three INSERT ... SELECT statements, so
DuckDB parses the JSON once per line (json_extract with a list of paths) on all its threads and
no Python runs per line. Every check a line can fail becomes a reason string naming the key, so
a bad line is a reject with a reason and never stops the chunk. docs/native-format.md is the
user-facing description of what is accepted.
"""

from __future__ import annotations

import duckdb

# Marks bytes that were not UTF-8: the reader replaces each bad sequence with this
# noncharacter (it never appears in real text), and such lines are rejected.
BAD_UTF8 = "\uffff"
REJECT_TEXT_CHARS = 2000

STR_FIELDS = (
    "trace_id", "parent_id", "name", "provider", "model", "model_requested", "prompt_name",
    "prompt_version", "input_text", "output_text", "cost_source", "error_type", "error_message",
    "user_id", "session_id", "environment", "rerun_of", "source_format", "kind", "status",
)  # fmt: skip
INT_FIELDS = ("tokens_in", "tokens_out", "tokens_cache_read", "tokens_reasoning")
FLOAT_FIELDS = ("cost_usd", "latency_ms", "ttft_ms")
MESSAGE_FIELDS = ("input_messages", "output_messages")
KINDS = ("llm", "tool", "agent", "chain", "retrieval", "embedding", "other")

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
)  # fmt: skip
FEEDBACK_STR = ("feedback_id", "event_id", "trace_id", "name", "kind", "label", "source",
                "comment", "correction", "author")  # fmt: skip
FEEDBACK_ID_PARTS = ("event_id", "trace_id", "name", "kind", "value", "label", "source",
                     "comment", "correction", "author", "ts")  # fmt: skip
# Keys a native event line may carry that are not stored in `raw`.
KNOWN_EVENT_KEYS = tuple(c for c in EVENT_COLUMNS if c != "raw") + ("type", "feedback")

_EVENT_PATHS = ("event_id", "ts", "ts_end", "params", "tags", "input_messages",
                "output_messages") + STR_FIELDS + INT_FIELDS + FLOAT_FIELDS  # fmt: skip
_FEEDBACK_PATHS = FEEDBACK_STR + ("value", "ts")

# Macros shared by the statements below; `v` is a JSON value (NULL when the key is absent).
MACROS = rf"""
CREATE OR REPLACE MACRO rd_absent(v) AS v IS NULL OR json_type(v) = 'NULL';
CREATE OR REPLACE MACRO rd_str(v) AS CASE
    WHEN rd_absent(v) THEN NULL
    WHEN json_type(v) = 'VARCHAR' THEN v->>'$'
    WHEN json_type(v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN v::VARCHAR END;
CREATE OR REPLACE MACRO rd_str_bad(v) AS
    NOT rd_absent(v) AND json_type(v) NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE');
CREATE OR REPLACE MACRO rd_num(v) AS CASE
    WHEN rd_absent(v) THEN NULL
    WHEN json_type(v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(v AS DOUBLE)
    WHEN json_type(v) = 'VARCHAR' THEN TRY_CAST(trim(v->>'$') AS DOUBLE) END;
CREATE OR REPLACE MACRO rd_num_bad(v) AS
    NOT rd_absent(v) AND (rd_num(v) IS NULL OR NOT isfinite(rd_num(v)));
CREATE OR REPLACE MACRO rd_int(v) AS CASE
    WHEN json_type(v) IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(v AS BIGINT)
    ELSE TRY_CAST(rd_num(v) AS BIGINT) END;
CREATE OR REPLACE MACRO rd_int_bad(v) AS NOT rd_absent(v) AND (
    rd_num(v) IS NULL OR NOT isfinite(rd_num(v)) OR rd_num(v) <> floor(rd_num(v))
    OR rd_int(v) IS NULL);
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
CREATE OR REPLACE MACRO rd_ts(v) AS CASE
    WHEN rd_absent(v) THEN NULL
    WHEN json_type(v) = 'VARCHAR' THEN rd_ts_text(trim(v->>'$'))
    WHEN json_type(v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND isfinite(TRY_CAST(v AS DOUBLE))
        THEN rd_epoch(TRY_CAST(v AS DOUBLE)) END;
CREATE OR REPLACE MACRO rd_ts_bad(v) AS NOT rd_absent(v) AND rd_ts(v) IS NULL;
CREATE OR REPLACE MACRO rd_type_bad(v, t) AS NOT rd_absent(v) AND json_type(v) <> t;
-- Text of one chat message's content: a string, or the text parts of a list of parts.
CREATE OR REPLACE MACRO rd_content(m) AS CASE
    WHEN json_type(m, '$.content') = 'VARCHAR' THEN m->>'$.content'
    WHEN json_type(m, '$.content') = 'ARRAY' THEN array_to_string(
        list_filter(list_transform(json_extract(m, '$.content[*]'),
                                   lambda p: CASE WHEN json_type(p) = 'VARCHAR' THEN p->>'$'
                                             ELSE p->>'$.text' END),
                    lambda x: x IS NOT NULL), '') END;
CREATE OR REPLACE MACRO rd_last_user_text(msgs) AS rd_content(list_last(
    list_filter(json_extract(msgs, '$[*]'), lambda m: m->>'$.role' = 'user')));
CREATE OR REPLACE MACRO rd_first_text(msgs) AS rd_content(json_extract(msgs, '$[0]'));
CREATE OR REPLACE MACRO rd_pointer(k) AS '/' || replace(replace(k, '~', '~0'), '/', '~1');
CREATE OR REPLACE MACRO rd_feedback_id(e, tr, n, k, v, lb, src, cm, cr, au, t) AS
    'fb_' || md5(to_json([e, tr, n, k, v::VARCHAR, lb, src, cm, cr, au, t::VARCHAR]));
CREATE OR REPLACE MACRO rd_clip(s) AS left(s, {REJECT_TEXT_CHARS});
"""


def _list_sql(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{i}'" for i in items) + "]"


def _paths_sql(keys: tuple[str, ...]) -> str:
    return _list_sql(tuple(f"$.{k}" for k in keys))


def _j(keys: tuple[str, ...], key: str, var: str = "j") -> str:
    return f"{var}[{keys.index(key) + 1}]"


def _event_checks() -> list[str]:
    """SQL expressions each yielding a reason string, or NULL when the check passes."""
    e = lambda k: _j(_EVENT_PATHS, k)  # noqa: E731
    checks = [
        f"CASE WHEN rd_absent({e('event_id')}) THEN 'missing event_id' "
        f"WHEN rd_str_bad({e('event_id')}) THEN 'event_id: expected a string' "
        f"WHEN rd_str({e('event_id')}) = '' THEN 'event_id: empty' END",
        f"CASE WHEN rd_absent({e('ts')}) THEN 'missing ts' "
        f"WHEN rd_ts_bad({e('ts')}) THEN 'ts: not an ISO-8601 timestamp or Unix time' END",
        f"CASE WHEN rd_ts_bad({e('ts_end')}) "
        "THEN 'ts_end: not an ISO-8601 timestamp or Unix time' END",
        f"CASE WHEN rd_type_bad({e('params')}, 'OBJECT') THEN 'params: expected an object' END",
        f"CASE WHEN rd_type_bad({e('tags')}, 'ARRAY') THEN 'tags: expected an array of strings' "
        f"WHEN list_bool_or(list_transform(json_extract({e('tags')}, '$[*]'), "
        "lambda t: rd_str_bad(t))) THEN 'tags: expected an array of strings' END",
    ]
    for k in MESSAGE_FIELDS:
        checks.append(
            f"CASE WHEN rd_type_bad({e(k)}, 'ARRAY') THEN '{k}: expected an array of messages' "
            f"WHEN list_bool_or(list_transform(json_extract({e(k)}, '$[*]'), "
            f"lambda m: json_type(m) <> 'OBJECT')) THEN '{k}: each message must be an object' END"
        )
    for k in STR_FIELDS:
        checks.append(f"CASE WHEN rd_str_bad({e(k)}) THEN '{k}: expected a string' END")
    for k in INT_FIELDS:
        checks.append(f"CASE WHEN rd_int_bad({e(k)}) THEN '{k}: expected an integer' END")
    for k in FLOAT_FIELDS:
        checks.append(f"CASE WHEN rd_num_bad({e(k)}) THEN '{k}: expected a finite number' END")
    checks.append(
        f"CASE WHEN rd_str({e('kind')}) NOT IN {tuple(KINDS)} "
        f"THEN 'kind: expected one of {', '.join(KINDS)}' END"
    )
    checks.append(
        f"CASE WHEN rd_str({e('status')}) NOT IN ('ok', 'error') "
        "THEN 'status: expected ok or error' END"
    )
    checks.append(
        "CASE WHEN NOT rd_absent(json_extract(line, '$.feedback')) AND "
        "json_type(line, '$.feedback') <> 'ARRAY' THEN 'feedback: expected an array' END"
    )
    return checks


def _event_values() -> dict[str, str]:
    e = lambda k: _j(_EVENT_PATHS, k)  # noqa: E731
    values = {k: f"rd_str({e(k)})" for k in STR_FIELDS}
    values["event_id"] = f"rd_str({e('event_id')})"
    values["ts"] = f"rd_ts({e('ts')})"
    values["ts_end"] = f"rd_ts({e('ts_end')})"
    values["kind"] = f"coalesce(rd_str({e('kind')}), 'llm')"
    values["status"] = (
        f"coalesce(rd_str({e('status')}), "
        f"CASE WHEN rd_str({e('error_type')}) IS NOT NULL THEN 'error' ELSE 'ok' END)"
    )
    values["source_format"] = f"coalesce(rd_str({e('source_format')}), 'native')"
    for k in MESSAGE_FIELDS + ("params",):
        values[k] = f"CASE WHEN NOT rd_absent({e(k)}) THEN {e(k)} END"
    values["input_text"] = (
        f"coalesce(rd_str({e('input_text')}), rd_last_user_text({e('input_messages')}))"
    )
    values["output_text"] = (
        f"coalesce(rd_str({e('output_text')}), rd_first_text({e('output_messages')}))"
    )
    for k in INT_FIELDS:
        values[k] = f"rd_int({e(k)})"
    for k in FLOAT_FIELDS:
        values[k] = f"rd_num({e(k)})"
    values["tags"] = (
        f"CASE WHEN NOT rd_absent({e('tags')}) THEN "
        f"list_transform(json_extract({e('tags')}, '$[*]'), lambda t: rd_str(t)) END"
    )
    values["raw"] = (
        "CASE WHEN len(unknown_keys) > 0 THEN to_json(map(unknown_keys, "
        "list_transform(unknown_keys, lambda k: json_extract(line, rd_pointer(k))))) END"
    )
    return values


def _feedback_values(src: str, implied_event: str | None) -> tuple[list[str], dict[str, str]]:
    """Checks and values of a feedback row read from the JSON in column `src`."""
    f = lambda k: _j(_FEEDBACK_PATHS, k, "fj")  # noqa: E731
    default_kind = (
        f"CASE rd_str({f('name')}) WHEN 'thumbs' THEN 'vote' WHEN 'rating' THEN 'vote' "
        "WHEN 'regenerated' THEN 'action' WHEN 'copied' THEN 'action' WHEN 'shared' THEN 'action' "
        "WHEN 'edited' THEN 'action' WHEN 'correction' THEN 'correction' "
        "WHEN 'verdict' THEN 'label' END"
    )
    kind = f"coalesce(rd_str({f('kind')}), {default_kind})"
    source = (
        f"coalesce(rd_str({f('source')}), CASE WHEN {kind} IN ('vote', 'action', 'correction') "
        "THEN 'user' END)"
    )
    value = (
        f"CASE WHEN json_type({f('value')}) = 'BOOLEAN' THEN "
        f"CASE WHEN {f('value')}::BOOLEAN THEN 1.0 ELSE 0.0 END ELSE rd_num({f('value')}) END"
    )
    event_id = f"rd_str({f('event_id')})" if implied_event is None else implied_event
    checks = [f"CASE WHEN rd_str_bad({f(k)}) THEN '{k}: expected a string' END"
              for k in FEEDBACK_STR]  # fmt: skip
    checks += [
        f"CASE WHEN json_type({src}) <> 'OBJECT' THEN 'not a JSON object' END",
        f"CASE WHEN rd_str({f('name')}) IS NULL OR rd_str({f('name')}) = '' "
        "THEN 'missing name' END",
        f"CASE WHEN {kind} IS NULL THEN 'missing kind' "
        f"WHEN {kind} NOT IN ('vote', 'action', 'correction', 'score', 'label') "
        "THEN 'kind: expected vote, action, correction, score or label' END",
        f"CASE WHEN {source} IS NULL THEN 'missing source' "
        f"WHEN {source} NOT IN ('user', 'reviewer', 'llm_judge', 'code') "
        "THEN 'source: expected user, reviewer, llm_judge or code' END",
        f"CASE WHEN json_type({f('value')}) <> 'BOOLEAN' AND rd_num_bad({f('value')}) "
        "THEN 'value: expected a finite number' END",
        f"CASE WHEN rd_ts_bad({f('ts')}) THEN 'ts: not an ISO-8601 timestamp or Unix time' END",
        f"CASE WHEN {event_id} IS NULL AND rd_str({f('trace_id')}) IS NULL "
        "THEN 'missing event_id (or trace_id)' END",
    ]
    if implied_event is not None:
        checks.append(
            f"CASE WHEN rd_str({f('event_id')}) <> {implied_event} "
            "THEN 'event_id: differs from the event it is embedded in' END"
        )
    values = {k: f"rd_str({f(k)})" for k in FEEDBACK_STR}
    values.update(event_id=event_id, kind=kind, source=source, value=value,
                  ts=f"rd_ts({f('ts')})", source_format="'native'")  # fmt: skip
    # The stable id of a feedback row without one: its content, so a resend is a duplicate.
    args = ", ".join(values[c] for c in FEEDBACK_ID_PARTS)
    values["feedback_id"] = f"coalesce(rd_str({f('feedback_id')}), rd_feedback_id({args}))"
    return checks, values


def _reason(checks: list[str]) -> str:
    return (
        "array_to_string(list_filter([" + ", ".join(checks) + "], lambda x: x IS NOT NULL), '; ')"
    )


def setup(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros and staging tables on a staging connection."""
    con.execute(MACROS)


def statements(chunk: str) -> list[str]:
    """The SQL that turns the Arrow table named `chunk` into s_events / s_feedback / s_rejects."""
    ev_checks = _event_checks()
    ev_values = _event_values()
    known = _list_sql(KNOWN_EVENT_KEYS)
    fb_line_checks, fb_line_values = _feedback_values("line", None)
    fb_emb_checks, fb_emb_values = _feedback_values("item", "event_id_of_line")
    classify = f"""
        CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT line_no, line, CASE
            WHEN contains(line, '{BAD_UTF8}') THEN 'invalid UTF-8'
            WHEN NOT json_valid(line) THEN 'malformed JSON'
            WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
            WHEN NOT rd_absent(json_extract(line, '$.type'))
                 AND json_type(line, '$.type') <> 'VARCHAR' THEN 'type: expected a string'
            WHEN coalesce(line->>'$.type', 'event') NOT IN ('event', 'feedback')
                THEN 'type: expected event or feedback'
            END AS bad,
            CASE WHEN bad IS NULL THEN coalesce(line->>'$.type', 'event') END AS line_type
        FROM (SELECT line_no, rtrim(line, chr(10) || chr(13)) AS line FROM {chunk}) WHERE trim(line) <> ''
    """
    bad_lines = """
        INSERT INTO s_rejects SELECT line_no, bad, rd_clip(line) FROM _lines WHERE bad IS NOT NULL
    """
    ev_cols = ", ".join(EVENT_COLUMNS)
    ev_select = ", ".join(f"{ev_values[c]} AS {c}" for c in EVENT_COLUMNS)
    events = f"""
        CREATE OR REPLACE TEMP TABLE _ev AS
        SELECT line_no, line, reason, {ev_cols} FROM (
            SELECT line_no, line, {_reason(ev_checks)} AS reason, {ev_select}
            FROM (
                SELECT line_no, line, json_extract(line, {_paths_sql(_EVENT_PATHS)}) AS j,
                       list_distinct(list_filter(json_keys(line),
                                     lambda k: NOT list_contains({known}, k))) AS unknown_keys
                FROM _lines WHERE line_type = 'event'))
    """
    ev_rejects = """
        INSERT INTO s_rejects SELECT line_no, reason, rd_clip(line) FROM _ev WHERE reason <> ''
    """
    ev_insert = f"INSERT INTO s_events SELECT line_no, {ev_cols} FROM _ev WHERE reason = ''"
    fb_cols = ", ".join(FEEDBACK_COLUMNS)
    fb_line = f"""
        INSERT INTO s_feedback_all
        SELECT line_no, 0, line, {_reason(fb_line_checks)},
               {", ".join(f"{fb_line_values[c]}" for c in FEEDBACK_COLUMNS)}
        FROM (SELECT line_no, line, json_extract(line, {_paths_sql(_FEEDBACK_PATHS)}) AS fj
              FROM _lines WHERE line_type = 'feedback')
    """
    fb_emb = f"""
        INSERT INTO s_feedback_all
        SELECT line_no, pos, item, {_reason(fb_emb_checks)},
               {", ".join(f"{fb_emb_values[c]}" for c in FEEDBACK_COLUMNS)}
        FROM (SELECT line_no, pos, item, event_id_of_line,
                     json_extract(item, {_paths_sql(_FEEDBACK_PATHS)}) AS fj
              FROM (SELECT line_no, event_id AS event_id_of_line,
                           unnest(json_extract(line, '$.feedback[*]')) AS item,
                           generate_subscripts(json_extract(line, '$.feedback[*]'), 1) AS pos
                    FROM _ev WHERE reason = '' AND json_type(line, '$.feedback') = 'ARRAY'))
    """
    fb_split = f"""
        INSERT INTO s_rejects
        SELECT line_no, CASE WHEN pos = 0 THEN reason ELSE 'feedback[' || (pos - 1) || ']: '
               || reason END, rd_clip(src) FROM s_feedback_all WHERE reason <> '';
        INSERT INTO s_feedback SELECT line_no, pos, {fb_cols} FROM s_feedback_all
            WHERE reason = '';
        DELETE FROM s_feedback_all;
    """
    return [classify, bad_lines, events, ev_rejects, ev_insert, fb_line, fb_emb, fb_split]


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
            source_format VARCHAR, raw JSON);
        CREATE TABLE s_feedback (line_no BIGINT, pos INTEGER, feedback_id VARCHAR,
            event_id VARCHAR, trace_id VARCHAR, name VARCHAR, kind VARCHAR, value DOUBLE,
            label VARCHAR, source VARCHAR, comment VARCHAR, correction VARCHAR, author VARCHAR,
            ts TIMESTAMPTZ, source_format VARCHAR);
        CREATE TABLE s_feedback_all (line_no BIGINT, pos INTEGER, src VARCHAR, reason VARCHAR,
            feedback_id VARCHAR, event_id VARCHAR, trace_id VARCHAR, name VARCHAR, kind VARCHAR,
            value DOUBLE, label VARCHAR, source VARCHAR, comment VARCHAR, correction VARCHAR,
            author VARCHAR, ts TIMESTAMPTZ, source_format VARCHAR);
        """
    )


def parse_chunk(con: duckdb.DuckDBPyConnection, chunk_name: str) -> None:
    """Run the statements on the registered Arrow table `chunk_name` (caller handles errors)."""
    for sql in statements(chunk_name):
        con.execute(sql)

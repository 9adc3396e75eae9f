"""Spool entries → the loader's staged rows → one warehouse transaction per batch.

Mapping is file ingest's, unchanged: a spooled request is an OTLP/JSON document that
ingest.formats.otlp_spans.read_traces_doc / otlp_logs.read_logs_doc turn into rows (OTel GenAI
current and deprecated, OpenInference, vendor keys), ingest.load.parsed.arrow_rows stages them
and ingest.load.loader.load_staged dedups, rejects and commits them with trend_facts, exactly
as for a file. What a live stream adds is the join file ingest does between a traces file and
the logs files beside it (ingest.formats.otlp._join_signals): here the two arrive as separate
requests, so the join is made across the requests of a batch, and an entry whose partner has
not arrived yet (an llm span without messages, or log events whose span is not in) waits up to
`join_wait_s` for it before going in alone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.collect.spool import Entry, Spool
from ingest.formats import no_cyclic_gc
from ingest.formats.otlp import read as read_otlp
from ingest.formats.otlp_logs import read_logs_doc
from ingest.formats.otlp_spans import read_traces_doc
from ingest.load.loader import FileResult, load_staged
from ingest.load.parsed import Staged, arrow_rows
from ingest.records import ParsedFile, Reject

CONTENT = ("input_messages", "output_messages", "input_text", "output_text")  # as otlp.py joins
MAX_BATCH_BYTES = 64 * 1024 * 1024
ENDPOINT = {"traces": "POST /v1/traces", "logs": "POST /v1/logs", "bad": "POST"}


@dataclass
class Mapped:
    """One spool entry, mapped; what the join of log events with spans needs to know of it."""

    entry: Entry
    parsed: ParsedFile | None  # kept while the entry may take part in a join
    staged: Staged | None  # kept otherwise (compact Arrow)
    bare_ids: frozenset[str]  # traces: llm spans without messages
    span_ids: frozenset[str]  # traces: every span; logs: the spans its events describe
    total: int  # spans or log records in the request
    rejected: int
    reasons: tuple[str, ...]  # the first reasons, for the partial-success message

    @property
    def joinable(self) -> bool:
        return bool(self.bare_ids) if self.entry.kind == "traces" else bool(self.span_ids)


def map_doc(entry: Entry, doc: dict[str, Any] | None, total: int, spool: Spool | None) -> Mapped:
    """Map a decoded request (or, with doc None, re-read its spool file) into rows."""
    with no_cyclic_gc():
        if entry.kind == "bad":
            parsed = bad_record(spool.read(entry) if spool else b"{}")
        elif doc is None:
            assert spool is not None
            # The spool file is an OTLP/JSON Lines file: read it as `reviewdeck ingest` would,
            # without the sibling-file join (the batch does that join across requests).
            parsed = read_otlp(Path(entry.name), spool.read(entry), join=False)
            total = parsed.records_read
        else:
            parsed = ParsedFile(source_format="otlp")
            (read_traces_doc if entry.kind == "traces" else read_logs_doc)(doc, None, parsed)
        return _mapped(entry, parsed, total)


def _mapped(entry: Entry, parsed: ParsedFile, total: int) -> Mapped:
    ids = frozenset(r["event_id"] for r in parsed.events if r.get("event_id"))
    bare: frozenset[str] = frozenset()
    if entry.kind == "traces":
        bare = frozenset(
            r["event_id"]
            for r in parsed.events
            if r.get("kind") == "llm" and r.get("input_messages") is None and r.get("event_id")
        )
    m = Mapped(entry, parsed, None, bare, ids, total, 0, ())
    reasons = [r.reason for r in parsed.rejects]
    if not m.joinable:
        m.staged = arrow_rows(parsed)
        m.parsed = None
        reasons = [r[1] for r in m.staged.rejects]
        kept = m.staged.tables["s_events"].num_rows if "s_events" in m.staged.tables else 0
    else:
        kept = len(parsed.events)
    if entry.kind == "traces":
        m.rejected = max(total - kept, 0)
    else:
        m.rejected = len(reasons)
    m.reasons = tuple(reasons[:3])
    return m


def bad_record(data: bytes) -> ParsedFile:
    """A refused payload's spool record as a file with one reject."""
    import orjson

    rec = orjson.loads(data)
    out = ParsedFile(source_format="otlp", records_read=1)
    out.rejects.append(Reject(None, rec.get("reason", "bad payload"), rec.get("text", "")))
    return out


def bad_payload_record(path: str, ctype: str | None, reason: str, body: bytes) -> bytes:
    import orjson

    try:
        text = body[:2000].decode("utf-8")
    except UnicodeDecodeError:
        text = repr(body[:600])
    return orjson.dumps(
        {"endpoint": path, "content_type": ctype, "reason": f"{path}: {reason}", "text": text}
    )


# Planning a batch --------------------------------------------------------------------------


def _components(mapped: list[Mapped]) -> list[list[Mapped]]:
    """Entries that share span ids (a span and its log events) travel together."""
    parent = list(range(len(mapped)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, m in enumerate(mapped):
        if m.entry.kind == "bad":
            continue
        for sid in m.span_ids:
            j = owner.setdefault(sid, i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[Mapped]] = {}
    for i, m in enumerate(mapped):
        groups.setdefault(find(i), []).append(m)
    return sorted(groups.values(), key=lambda g: g[0].entry.name)


def plan(mapped: list[Mapped], now_s: float, join_wait_s: float, drain_all: bool) -> list[Mapped]:
    """The entries to load now, in arrival order: every group none of whose members still
    waits for a partner, up to MAX_BATCH_BYTES (at least one group)."""
    logs_ids = set().union(*(m.span_ids for m in mapped if m.entry.kind == "logs"))
    trace_ids = set().union(*(m.span_ids for m in mapped if m.entry.kind == "traces"))

    def waits(m: Mapped) -> bool:
        if drain_all or now_s - m.entry.created_s >= join_wait_s:
            return False
        if m.entry.kind == "traces":
            return bool(m.bare_ids - logs_ids)
        return m.entry.kind == "logs" and bool(m.span_ids - trace_ids)

    out: list[Mapped] = []
    size = 0
    for group in _components(mapped):
        if any(waits(m) for m in group):
            continue
        g_size = sum(m.entry.size for m in group)
        if out and size + g_size > MAX_BATCH_BYTES:
            break
        out += group
        size += g_size
    return sorted(out, key=lambda m: m.entry.name)


# Building and committing a batch -----------------------------------------------------------


def _join(batch: list[Mapped]) -> None:
    """Spans without messages take them from the log events of the batch (same span id); log
    events whose span is in the batch leave the row to the span: otlp._join_signals' rules."""
    from_logs: dict[str, dict[str, Any]] = {}
    span_ids: set[str] = set()
    for m in batch:
        if m.entry.kind == "logs" and m.parsed is not None:
            for row in m.parsed.events:
                from_logs.setdefault(row["event_id"], row)
        elif m.entry.kind == "traces":
            span_ids |= m.span_ids
    for m in batch:
        if m.parsed is None:
            continue
        if m.entry.kind == "traces":
            rows = []
            for row in m.parsed.events:
                src = from_logs.get(row["event_id"]) if row["event_id"] in m.bare_ids else None
                if src is not None:
                    row = {**row, **{k: src.get(k) for k in CONTENT if row.get(k) is None}}
                rows.append(row)
            m.parsed = replace(m.parsed, events=rows)
        elif m.entry.kind == "logs":
            kept = [r for r in m.parsed.events if r["event_id"] not in span_ids]
            m.parsed = replace(m.parsed, events=kept)


def staged_parts(batch: list[Mapped]) -> list[Staged]:
    """The batch's rows as staged parts; each reject names its request (line_no = its place
    in the batch)."""
    _join(batch)
    parts = []
    for pos, m in enumerate(batch, start=1):
        staged = m.staged if m.staged is not None else arrow_rows(m.parsed)  # type: ignore[arg-type]
        where = f"{ENDPOINT[m.entry.kind]} request {m.entry.name}"
        rejects = [(pos, f"{where}: {reason}", text) for _, reason, text in staged.rejects]
        parts.append(replace(staged, rejects=rejects))
    return parts


def batch_hash(names: Iterable[str]) -> str:
    return hashlib.sha256(("collect\n" + "\n".join(names)).encode()).hexdigest()


def commit(db_path: str | os.PathLike[str], spool: Spool, batch_id: str,
           batch: list[Mapped]) -> FileResult:  # fmt: skip
    """Load a claimed batch in one transaction, then drop its files and its manifest.

    A crash after the commit and before the removal replays the manifest on restart; its
    content hash is then in `ingested_files` and the loader skips it: nothing lands twice."""
    names = [m.entry.name for m in batch]
    result = load_staged(
        db_path,
        staged_parts(batch),
        label=f"otlp-collector:{spool.folder}/batches/{batch_id}",
        content_hash=batch_hash(names),
        size_bytes=sum(m.entry.size for m in batch),
    )
    spool.remove([m.entry for m in batch])
    spool.release(batch_id)
    return result

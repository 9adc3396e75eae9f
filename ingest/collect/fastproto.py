"""ExportTraceServiceRequest → OTLP/JSON dict by walking the messages directly.

Equal to wire.decode's MessageToDict path followed by normalise_ids (tested on the SDK's own
requests, tests/ingest/collect/test_collect_fastproto.py), about ten times faster:
json_format's generic reflection costs ~100-250 µs per GenAI span, most of the ack path.
Fields are written only when set, as MessageToDict writes them; 64-bit integers as strings.
"""

from __future__ import annotations

import base64
from typing import Any


def _any(v: Any) -> dict[str, Any]:
    which = v.WhichOneof("value")
    if which is None:
        return {}
    if which == "string_value":
        return {"stringValue": v.string_value}
    if which == "int_value":
        return {"intValue": str(v.int_value)}
    if which == "double_value":
        return {"doubleValue": v.double_value}
    if which == "bool_value":
        return {"boolValue": v.bool_value}
    if which == "array_value":
        vals = [_any(x) for x in v.array_value.values]
        return {"arrayValue": {"values": vals} if vals else {}}
    if which == "kvlist_value":
        kvs = _kvs(v.kvlist_value.values)
        return {"kvlistValue": {"values": kvs} if kvs else {}}
    return {"bytesValue": base64.b64encode(v.bytes_value).decode()}


def _kvs(items: Any) -> list[dict[str, Any]]:
    # The hot loop (a GenAI span is mostly attributes): each access to a upb field builds a
    # Python object, so each is read once, and the two common shapes (a keyed string or int)
    # are built directly; anything else takes the general path.
    out: list[dict[str, Any]] = []
    append = out.append
    for kv in items:
        key = kv.key
        v = kv.value
        which = v.WhichOneof("value")
        if key:
            if which == "string_value":
                append({"key": key, "value": {"stringValue": v.string_value}})
                continue
            if which == "int_value":
                append({"key": key, "value": {"intValue": str(v.int_value)}})
                continue
        d: dict[str, Any] = {}
        if key:
            d["key"] = key
        if kv.HasField("value"):
            d["value"] = _any(v)
        append(d)
    return out


def _scope(s: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if s.name:
        d["name"] = s.name
    if s.version:
        d["version"] = s.version
    if s.attributes:
        d["attributes"] = _kvs(s.attributes)
    if s.dropped_attributes_count:
        d["droppedAttributesCount"] = s.dropped_attributes_count
    return d


def _span(sp: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if sp.trace_id:
        d["traceId"] = _id(sp.trace_id)
    if sp.span_id:
        d["spanId"] = _id(sp.span_id)
    if sp.trace_state:
        d["traceState"] = sp.trace_state
    if sp.parent_span_id:
        d["parentSpanId"] = _id(sp.parent_span_id)
    if sp.flags:
        d["flags"] = sp.flags
    if sp.name:
        d["name"] = sp.name
    if sp.kind:
        d["kind"] = sp.kind
    if sp.start_time_unix_nano:
        d["startTimeUnixNano"] = str(sp.start_time_unix_nano)
    if sp.end_time_unix_nano:
        d["endTimeUnixNano"] = str(sp.end_time_unix_nano)
    if sp.attributes:
        d["attributes"] = _kvs(sp.attributes)
    if sp.dropped_attributes_count:
        d["droppedAttributesCount"] = sp.dropped_attributes_count
    if sp.events:
        evs = []
        for ev in sp.events:
            e: dict[str, Any] = {}
            if ev.time_unix_nano:
                e["timeUnixNano"] = str(ev.time_unix_nano)
            if ev.name:
                e["name"] = ev.name
            if ev.attributes:
                e["attributes"] = _kvs(ev.attributes)
            if ev.dropped_attributes_count:
                e["droppedAttributesCount"] = ev.dropped_attributes_count
            evs.append(e)
        d["events"] = evs
    if sp.dropped_events_count:
        d["droppedEventsCount"] = sp.dropped_events_count
    if sp.links:
        links = []
        for ln in sp.links:
            link: dict[str, Any] = {}
            if ln.trace_id:
                link["traceId"] = _id(ln.trace_id)
            if ln.span_id:
                link["spanId"] = _id(ln.span_id)
            if ln.trace_state:
                link["traceState"] = ln.trace_state
            if ln.attributes:
                link["attributes"] = _kvs(ln.attributes)
            if ln.dropped_attributes_count:
                link["droppedAttributesCount"] = ln.dropped_attributes_count
            if ln.flags:
                link["flags"] = ln.flags
            links.append(link)
        d["links"] = links
    if sp.dropped_links_count:
        d["droppedLinksCount"] = sp.dropped_links_count
    if sp.HasField("status"):
        st: dict[str, Any] = {}
        if sp.status.message:
            st["message"] = sp.status.message
        if sp.status.code:
            st["code"] = sp.status.code
        d["status"] = st
    return d


def _id(raw: bytes) -> str:
    # As normalise_ids leaves them: hex for 8/16-byte ids, base64 for any other length (which
    # the reader then rejects with the reason).
    return raw.hex() if len(raw) in (8, 16) else base64.b64encode(raw).decode()


def traces_request(msg: Any) -> dict[str, Any]:
    out = []
    for rs in msg.resource_spans:
        r: dict[str, Any] = {}
        if rs.HasField("resource"):
            res: dict[str, Any] = {}
            if rs.resource.attributes:
                res["attributes"] = _kvs(rs.resource.attributes)
            if rs.resource.dropped_attributes_count:
                res["droppedAttributesCount"] = rs.resource.dropped_attributes_count
            r["resource"] = res
        if rs.scope_spans:
            sss = []
            for ss in rs.scope_spans:
                s: dict[str, Any] = {}
                if ss.HasField("scope"):
                    s["scope"] = _scope(ss.scope)
                if ss.spans:
                    s["spans"] = [_span(sp) for sp in ss.spans]
                if ss.schema_url:
                    s["schemaUrl"] = ss.schema_url
                sss.append(s)
            r["scopeSpans"] = sss
        if rs.schema_url:
            r["schemaUrl"] = rs.schema_url
        out.append(r)
    return {"resourceSpans": out} if out else {}

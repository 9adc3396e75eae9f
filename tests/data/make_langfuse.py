"""Make the Langfuse fixtures: the real Langfuse Python SDK (its OpenAI integration, observations
and scores) sends to a capture server on 127.0.0.1 posing as the Langfuse host; the OpenAI
calls go to fixture_server.OpenAIServer. Rerun in the fixture venv (see make_otlp.py):
``/tmp/fixture-venv/bin/python tests/data/make_langfuse.py``.

What the SDK sends, and what is written from it (tests/data/langfuse/):

- ``POST /api/public/otel/v1/traces`` — OTLP protobuf. Each request is decoded with
  opentelemetry-proto's ``ExportTraceServiceRequest`` and written by protobuf's
  ``json_format.MessageToJson``, unchanged: base64 ids and enum names, as the Collector's
  ``file`` exporter and many debugging tools write them → ``otel.traces.jsonl`` (read by the
  otlp reader, through the ``langfuse.*`` attributes).
- ``POST /api/public/scores`` — the scores (``create_score``), one request each.
- The trace export. The SDK does not build it: the Langfuse *server* turns spans into
  observations. So ``trace_export.json`` (the public API's trace with ``observations`` and
  ``scores``) and ``records.jsonl`` (JSON Lines of observations and scores, as the v2
  observations API / blob export give them) are assembled here from the captured spans'
  ``langfuse.*`` attributes and the captured score bodies, each observation validated and
  serialised by the SDK's own API models (``langfuse.api.ObservationV2``, ``langfuse.api.Score``
  with their camelCase aliases). The span → observation mapping (``_observation``) is this
  script's, following Langfuse's documented OTel attribute mapping. ``webapp_trace.json`` holds
  the same records in the web app's download shape (``_webapp``).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "langfuse"
sys.path.insert(0, str(HERE))

from fixture_server import (  # noqa: E402
    CaptureServer,
    OpenAIServer,
    drive_openai,
    quiet_env,
    record_versions,
    versions,
)

TYPES = {"generation": "GENERATION", "span": "SPAN", "tool": "TOOL", "agent": "AGENT",
         "event": "EVENT", "chain": "CHAIN", "retriever": "RETRIEVER"}  # fmt: skip


def respond(method: str, path: str, headers: dict, body: bytes):
    if "/scores" in path:
        return 200, {"accepted": len(_as_list(body)), "rejected": 0, "errors": []}
    if "/otel/" in path:
        return 200, b""
    return 200, {}


def _body(request: dict) -> bytes:
    """The request body as sent before the exporter's gzip."""
    import gzip

    if request["headers"].get("content-encoding") == "gzip":
        return gzip.decompress(request["body"])
    return request["body"]


def _as_list(body: bytes) -> list[dict]:
    sent = json.loads(body or b"[]")
    return sent if isinstance(sent, list) else [sent]


def _nanos_iso(value) -> str:
    when = datetime.fromtimestamp(int(value) / 1e9, tz=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attrs(span: dict) -> dict:
    out = {}
    for item in span.get("attributes") or []:
        value = item["value"]
        kind, raw = next(iter(value.items())) if value else ("stringValue", None)
        if kind == "arrayValue":
            raw = [next(iter(v.values())) for v in raw.get("values", [])]
        elif kind == "intValue":
            raw = int(raw)
        out[item["key"]] = raw
    return out


def _loads(value):
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _flat_usage(raw: dict) -> dict:
    """OpenAI usage as the SDK sends it → Langfuse's flat usageDetails (int values): the server
    maps prompt/completion to input/output and nests `*_tokens_details` as `input_*`/`output_*`."""
    names = {"prompt_tokens": "input", "completion_tokens": "output", "total_tokens": "total"}
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            side = "input" if key.startswith(("prompt", "input")) else "output"
            for sub, n in value.items():
                if isinstance(n, int):
                    out[f"{side}_{sub}"] = n
        elif isinstance(value, int):
            out[names.get(key, key)] = value
    return out


def _observation(span: dict, resource: dict) -> dict:
    """One exported span → the fields of a Langfuse observation (the server's job, done here)."""
    import base64

    a = _attrs(span)
    hex_id = base64.b64decode(span["spanId"]).hex()
    parent = base64.b64decode(span["parentSpanId"]).hex() if span.get("parentSpanId") else None
    usage = _flat_usage(_loads(a.get("langfuse.observation.usage_details")) or {})
    if not usage and "gen_ai.usage.input_tokens" in a:
        usage = {"input": a["gen_ai.usage.input_tokens"],
                 "output": a.get("gen_ai.usage.output_tokens", 0)}  # fmt: skip
    if usage:
        usage.setdefault("total", sum(v for v in usage.values() if isinstance(v, int)))
    start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
    level = a.get("langfuse.observation.level") or (
        "ERROR" if (span.get("status") or {}).get("code") == "STATUS_CODE_ERROR" else "DEFAULT"
    )
    return {
        "id": hex_id, "traceId": base64.b64decode(span["traceId"]).hex(),
        "parentObservationId": parent, "projectId": "fixtures",
        "type": TYPES.get(a.get("langfuse.observation.type", "span"), "SPAN"),
        "name": span["name"], "startTime": _nanos_iso(start), "endTime": _nanos_iso(end),
        "latency": (end - start) / 1e9, "level": level,
        "statusMessage": a.get("langfuse.observation.status_message")
        or (span.get("status") or {}).get("message"),
        "environment": a.get("langfuse.environment") or resource.get("langfuse.environment")
        or "default",
        "model": a.get("langfuse.observation.model.name"),
        "modelParameters": _loads(a.get("langfuse.observation.model.parameters")),
        "input": _loads(a.get("langfuse.observation.input")),
        "output": _loads(a.get("langfuse.observation.output")),
        "metadata": {"attributes": {k: v if isinstance(v, str) else json.dumps(v)
                                    for k, v in a.items()},
                     "resourceAttributes": resource},
        "usageDetails": usage or None,
        "costDetails": _loads(a.get("langfuse.observation.cost_details")),
        "completionStartTime": _loads(a.get("langfuse.observation.completion_start_time")),
        "userId": a.get("user.id") or a.get("langfuse.user.id"),
        "sessionId": a.get("session.id") or a.get("langfuse.session.id"),
        "createdAt": _nanos_iso(end), "updatedAt": _nanos_iso(end),
    }  # fmt: skip


def main() -> None:
    os.environ.update(quiet_env())
    os.environ.update({"LANGFUSE_PUBLIC_KEY": "pk-lf-local", "LANGFUSE_SECRET_KEY": "sk-lf-local",
                       "LANGFUSE_TRACING_ENVIRONMENT": "fixtures"})  # fmt: skip
    from google.protobuf.json_format import MessageToDict, MessageToJson
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    OUT.mkdir(exist_ok=True)
    with CaptureServer(respond) as capture, OpenAIServer() as server:
        os.environ["LANGFUSE_HOST"] = os.environ["LANGFUSE_BASE_URL"] = capture.url
        from langfuse import Langfuse, propagate_attributes
        from langfuse.openai import OpenAI

        langfuse = Langfuse(public_key="pk-lf-local", secret_key="sk-lf-local",
                            host=capture.url)  # fmt: skip
        client = OpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)
        with langfuse.start_as_current_observation(
            as_type="agent", name="weather-agent", input={"question": "Weather in Paris?"}
        ) as root:
            with propagate_attributes(user_id="user-5", session_id="session-5",
                                      tags=["fixtures", "weather"]):  # fmt: skip
                with langfuse.start_as_current_observation(
                    as_type="tool", name="get_weather", input={"city": "Paris"}
                ) as tool:
                    tool.update(output="rainy, 14°C")
                drive_openai(client)
                # A generation the application reports itself, with Langfuse's own usage and
                # cost keys (a provided cost) and a warning level.
                with langfuse.start_as_current_observation(
                    as_type="generation", name="summarise", model="gpt-4o",
                    input=[{"role": "user", "content": "Summarise the weather."}],
                    output={"role": "assistant", "content": "Rainy."},
                    model_parameters={"temperature": "0.5", "max_tokens": "20"},
                    usage_details={"input": 30, "output": 2, "input_cached_tokens": 10},
                    cost_details={"input": 0.0000625, "output": 0.00002, "total": 0.0000825},
                    level="WARNING", status_message="short answer",
                ):  # fmt: skip
                    pass
            root.update(output="It is rainy in Paris, 14°C.")
            trace_id = root.trace_id
        langfuse.flush()
        spans_seen = [MessageToDict(ExportTraceServiceRequest.FromString(_body(r)))
                      for r in capture.taken("/otel/v1/traces")]  # fmt: skip
        generations = [s for doc in spans_seen for rs in doc["resourceSpans"]
                       for ss in rs["scopeSpans"] for s in ss["spans"]
                       if any(a["key"] == "langfuse.observation.type"
                              and a["value"].get("stringValue") == "generation"
                              for a in s["attributes"])]  # fmt: skip
        import base64

        second = base64.b64decode(generations[1]["spanId"]).hex()
        langfuse.create_score(name="helpfulness", value=0.75, trace_id=trace_id,
                              observation_id=second, data_type="NUMERIC", comment="ok",
                              score_id="score-helpfulness")  # fmt: skip
        langfuse.create_score(name="resolved", value="True", trace_id=trace_id,
                              data_type="BOOLEAN", score_id="score-resolved")  # fmt: skip
        langfuse.create_score(name="tone", value="polite", trace_id=trace_id,
                              data_type="CATEGORICAL", score_id="score-tone")  # fmt: skip
        langfuse.create_score(name="correction", value="It is rainy in Paris.",
                              trace_id=trace_id, observation_id=second, data_type="CORRECTION",
                              score_id="score-correction")  # fmt: skip
        langfuse.flush()
        otlp_lines = [MessageToJson(ExportTraceServiceRequest.FromString(_body(r)), indent=None)
                      for r in capture.taken("/otel/v1/traces")]  # fmt: skip
        posted = [s for r in capture.taken("/api/public/scores") for s in _as_list(_body(r))]
    (OUT / "otel.traces.jsonl").write_text("".join(line + "\n" for line in otlp_lines))
    _exports([json.loads(line) for line in otlp_lines], posted, trace_id)
    record_versions(["langfuse/otel.traces.jsonl", "langfuse/trace_export.json",
                     "langfuse/records.jsonl", "langfuse/webapp_trace.json"],
                    versions("langfuse", "openai", "opentelemetry-proto", "protobuf"))  # fmt: skip


def _exports(docs: list[dict], posted: list[dict], trace_id: str) -> None:
    from langfuse.api import ObservationV2, Score
    from langfuse.api.core.pydantic_utilities import parse_obj_as

    def checked_by(model, record: dict) -> dict:  # how the SDK reads API JSON, and writes it back
        return json.loads(parse_obj_as(model, record).json(exclude_none=False))

    observations = []
    for doc in docs:
        for rs in doc["resourceSpans"]:
            resource = _attrs(rs.get("resource") or {})
            for ss in rs["scopeSpans"]:
                observations.extend(_observation(s, resource) for s in ss["spans"])
    observations.sort(key=lambda o: o["startTime"])
    checked = [checked_by(ObservationV2, o) for o in observations]
    scores = []
    when = max(o["endTime"] for o in observations)
    for sent in posted:
        # What the server adds to a posted score: its source, and its clocks.
        body = {"source": "API", "timestamp": when, "createdAt": when, "updatedAt": when, **sent}
        if isinstance(body["value"], str):  # the API keeps the text apart from the number
            body["stringValue"] = body["value"]
            body["value"] = 1.0 if body["value"] == "True" else 0.0
        scores.append(checked_by(Score, body))
    attrs = {k: v for o in observations for k, v in o["metadata"]["attributes"].items()}
    root = next(o for o in observations if o["parentObservationId"] is None)
    trace = {
        "id": trace_id, "name": root["name"], "timestamp": root["startTime"],
        "userId": attrs.get("user.id"), "sessionId": attrs.get("session.id"),
        "tags": json.loads(attrs["langfuse.trace.tags"]) if "langfuse.trace.tags" in attrs
        else None, "environment": root["environment"], "input": root["input"],
        "output": root["output"], "release": None, "version": None, "public": False,
        "metadata": {}, "htmlPath": f"/project/fixtures/traces/{trace_id}",
        "latency": root["latency"],
        "totalCost": sum((o.get("costDetails") or {}).get("total", 0) for o in observations),
        "observations": checked, "scores": scores,
    }  # fmt: skip
    (OUT / "trace_export.json").write_text(json.dumps(trace, indent=1, ensure_ascii=False) + "\n")
    (OUT / "webapp_trace.json").write_text(
        json.dumps(_webapp(trace, checked, scores), indent=1, ensure_ascii=False) + "\n"
    )
    lines = [json.dumps(r, ensure_ascii=False) for r in [*checked, *scores]]
    (OUT / "records.jsonl").write_text("".join(line + "\n" for line in lines))


def _as_text(value):
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _webapp(trace: dict, observations: list[dict], scores: list[dict]) -> dict:
    """The web app's download of a trace (its tRPC trace-by-id shape, as in Langfuse's own test
    data): `{"trace": {…, "scores", "corrections", "observations": summaries}, "observations":
    […]}`, where `input`, `output` and `metadata` are JSON text rather than JSON, and a
    CORRECTION score sits in `corrections`. The same records as trace_export.json, re-enveloped;
    no library writes this either."""
    full = [{**o, "input": _as_text(o.get("input")), "output": _as_text(o.get("output")),
             "metadata": _as_text(o.get("metadata"))} for o in observations]  # fmt: skip
    summary_keys = ("id", "traceId", "parentObservationId", "type", "name", "startTime",
                    "endTime", "level", "model")  # fmt: skip
    head = {k: v for k, v in trace.items() if k not in ("observations", "scores", "htmlPath")}
    head.update(projectId="fixtures", bookmarked=False, input=_as_text(trace.get("input")),
                output=_as_text(trace.get("output")), metadata=_as_text(trace.get("metadata")),
                createdAt=trace["timestamp"], updatedAt=trace["timestamp"],
                scores=[s for s in scores if s.get("dataType") != "CORRECTION"],
                corrections=[s for s in scores if s.get("dataType") == "CORRECTION"],
                observations=[{k: o.get(k) for k in summary_keys}
                              for o in observations])  # fmt: skip
    return {"trace": head, "observations": full}


if __name__ == "__main__":
    main()

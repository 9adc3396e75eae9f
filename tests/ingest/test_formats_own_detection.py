"""Every fixture the project makes (tests/data) is detected by its content and read without a
reject; the list below is the whole folder, so a new fixture needs a line here."""

from __future__ import annotations

from ingest.formats import detect_format, read_foreign
from tests.conftest import DATA

EXPECTED_FORMAT = {
    "braintrust/project_logs/part-000001.jsonl": "braintrust",
    "braintrust/sdk_rows.jsonl": "braintrust",
    "helicone/requests.jsonl": "helicone",
    "langfuse/otel.traces.jsonl": "otlp",
    "langfuse/records.jsonl": "langfuse",
    "langfuse/trace_export.json": "langfuse",
    "langfuse/webapp_trace.json": "langfuse",
    "langfuse_blob/csv/observations/2026-12-01T22-00-00.csv": "langfuse_bulk",
    "langfuse_blob/csv/scores/2026-12-01T22-00-00.csv": "langfuse_bulk",
    "langfuse_blob/csv/traces/2026-12-01T22-00-00.csv": "langfuse_bulk",
    "langfuse_blob/jsonl/observations/2026-12-01T22-00-00.jsonl": "langfuse_bulk",
    "langfuse_blob/jsonl/scores/2026-12-01T22-00-00.jsonl": "langfuse_bulk",
    "langfuse_blob/jsonl/traces/2026-12-01T22-00-00.jsonl": "langfuse_bulk",
    "langfuse_blob/parquet/observations/2026-12-01T22-00-00.parquet": "langfuse_bulk",
    "langfuse_blob/parquet/scores/2026-12-01T22-00-00.parquet": "langfuse_bulk",
    "langfuse_blob/parquet/traces/2026-12-01T22-00-00.parquet": "langfuse_bulk",
    "langsmith/feedback.jsonl": "langsmith",
    "langsmith/runs.jsonl": "langsmith",
    "langsmith/runs_batch.jsonl": "langsmith",
    "langsmith_bulk/runs.parquet": "langsmith_bulk",
    "openai/batch/batch_input.jsonl": "openai_batch",
    "openai/batch/batch_output.jsonl": "openai_batch",
    "openai/cassette_404.yaml": "openai",
    "openai/cassette_streaming.yaml": "openai",
    "openai/cassette_tool_calls.yaml": "openai",
    "openai/logs.jsonl": "openai",
    "otlp/attrs_langsmith_otel.json": "otlp",
    "otlp/attrs_openai_v2.json": "otlp",
    "otlp/attrs_openinference.json": "otlp",
    "otlp/langsmith_otel.traces.jsonl": "otlp",
    "otlp/layout.traces.json": "otlp",
    "otlp/openai_agents_openinference.traces.json": "otlp",
    "otlp/openai_v2_current.logs.jsonl": "otlp",
    "otlp/openai_v2_current.traces.jsonl": "otlp",
    "otlp/openai_v2_deprecated.logs.jsonl": "otlp",
    "otlp/openai_v2_deprecated.traces.jsonl": "otlp",
    "otlp/openinference.traces.json": "otlp",
    "otlp/pydantic_ai_events.traces.json": "otlp",
    "otlp_proto/layout.traces.pb": "otlp_proto",
    "otlp_proto/openai_v2.logs.binpb": "otlp_proto",
    "otlp_proto/openai_v2.traces.binpb": "otlp_proto",
    "phoenix/annotations.jsonl": "phoenix",
    "phoenix/annotations.parquet": "phoenix",
    "phoenix/spans.jsonl": "phoenix",
    "phoenix/spans.parquet": "phoenix",
    "vercel/ai-sdk.otlp.json": "otlp",
    "vercel/ai-sdk.readable-spans.json": "otlp",
}
NOT_FIXTURES = {".py", ".mjs", ".md"}


def test_every_own_fixture_is_detected_by_content(tmp_path):
    on_disk = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file() and p.suffix not in NOT_FIXTURES and p.name != "versions.json"
        and "__pycache__" not in p.parts
    }  # fmt: skip
    assert on_disk == set(EXPECTED_FORMAT)
    for rel, fmt in EXPECTED_FORMAT.items():
        data = (DATA / rel).read_bytes()
        # the name says nothing: detection reads the content
        assert detect_format(tmp_path / "upload.bin", data[:65536]) == fmt, rel
        parsed = read_foreign(fmt, DATA / rel, data)
        assert parsed.rejects == [] and parsed.records_read > 0, rel


def test_every_own_fixture_has_its_library_versions_recorded():
    import json

    versions = json.loads((DATA / "versions.json").read_text())
    assert set(versions) == set(EXPECTED_FORMAT)
    assert all(versions[rel] for rel in EXPECTED_FORMAT)

"""Make the Phoenix fixtures: the real Phoenix server (`phoenix serve`, its default SQLite store,
on 127.0.0.1) receives the spans of the four calls of ../fixture_server.drive_openai, made by
the real openai SDK under OpenInference's instrumentation (`openinference-instrumentation-
openai`, exported with `phoenix.otel.register`) inside a CHAIN span that carries a session, a
user, tags and metadata (`openinference.instrumentation.using_attributes`); then Phoenix's own
client reads them back with `Client().spans.get_spans_dataframe()` and the frame is saved the
two ways a team saves it:

- spans.parquet — `df.to_parquet(path)` (pyarrow; the frame's index, `context.span_id`, kept);
- spans.jsonl — `df.reset_index().to_json(path, orient="records", lines=True)` (pandas writes
  timestamps as epoch milliseconds and missing values as null);
- annotations.parquet / annotations.jsonl — three span annotations added with the client's
  `spans.add_span_annotation` (an LLM judge's, a human's with an identifier and metadata, a
  code check's), read back with `spans.get_span_annotations_dataframe()` and saved the same two
  ways (JSON with `date_format="iso"`).

Install into a virtualenv of its own (Phoenix pins versions the project does not use):

    python -m venv /tmp/phoenix-fmt-venv && /tmp/phoenix-fmt-venv/bin/pip install \\
        arize-phoenix openinference-instrumentation-openai openai
    /tmp/phoenix-fmt-venv/bin/python tests/data/phoenix/make_phoenix.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fixture_server import OpenAIServer, drive_openai, quiet_env, record_versions, versions  # noqa: E402

PROJECT = "reviewdeck-fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"phoenix serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("phoenix serve did not answer")


def main() -> None:
    os.environ.update(quiet_env())
    work = Path(tempfile.mkdtemp(prefix="phoenix-fixture-"))
    port, grpc = free_port(), free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": str(work), "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(grpc), "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_TELEMETRY_ENABLED": "false"}  # fmt: skip
    phoenix = Path(sys.executable).with_name("phoenix")
    proc = subprocess.Popen([str(phoenix), "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(work / "serve.log", "w"))  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        import openai
        from openinference.instrumentation import using_attributes
        from openinference.instrumentation.openai import OpenAIInstrumentor
        from phoenix.client import Client
        from phoenix.otel import register

        provider = register(endpoint=f"{base}/v1/traces", project_name=PROJECT, batch=False,
                            set_global_tracer_provider=False, verbose=False)  # fmt: skip
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        tracer = provider.get_tracer("fixtures.phoenix")
        with OpenAIServer() as server:
            client = openai.OpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)
            with using_attributes(session_id="thread-1", user_id="user-9", tags=["fixtures"],
                                  metadata={"environment": "fixtures"}):  # fmt: skip
                with tracer.start_as_current_span(
                    "answer", attributes={"openinference.span.kind": "CHAIN",
                                          "input.value": "Weather in Paris?"}  # fmt: skip
                ) as root:
                    drive_openai(client)
                    root.set_attribute("output.value", "It is rainy in Paris, 14°C.")
        provider.force_flush()
        frame = None
        for _ in range(60):
            frame = Client(base_url=base).spans.get_spans_dataframe(project_identifier=PROJECT)
            if len(frame) >= 5:
                break
            time.sleep(0.5)
        assert frame is not None and len(frame) == 5, frame
        frame = frame.sort_values("start_time")
        frame.to_parquet(HERE / "spans.parquet")
        frame.reset_index(drop="context.span_id" in frame.columns).to_json(
            HERE / "spans.jsonl", orient="records", lines=True, force_ascii=False
        )
        spans = Client(base_url=base).spans
        ids = list(frame["context.span_id"])
        root, _, answer, _, missing = ids
        spans.add_span_annotation(span_id=answer, annotation_name="correctness",
                                  annotator_kind="LLM", label="correct", score=1.0,
                                  explanation="matches the tool result", sync=True)
        spans.add_span_annotation(span_id=root, annotation_name="user_rating",
                                  annotator_kind="HUMAN", label="thumbs_down", score=0.0,
                                  explanation="too long", metadata={"reviewer": "ana"},
                                  identifier="review-1", sync=True)
        spans.add_span_annotation(span_id=missing, annotation_name="ran_ok",
                                  annotator_kind="CODE", label="fail", score=0.0, sync=True)
        notes = None
        for _ in range(60):
            notes = spans.get_span_annotations_dataframe(spans_dataframe=frame,
                                                         project_identifier=PROJECT)
            if len(notes) >= 3:
                break
            time.sleep(0.5)
        assert notes is not None and len(notes) == 3, notes
        notes = notes.sort_values("annotation_name")
        notes.to_parquet(HERE / "annotations.parquet")
        notes.reset_index().to_json(HERE / "annotations.jsonl", orient="records", lines=True,
                                    force_ascii=False, date_format="iso")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    libs = versions("arize-phoenix", "arize-phoenix-client", "arize-phoenix-otel",
                    "openinference-instrumentation-openai", "openai", "pandas",
                    "pyarrow")  # fmt: skip
    record_versions(["phoenix/spans.parquet", "phoenix/spans.jsonl", "phoenix/annotations.parquet",
                     "phoenix/annotations.jsonl"], libs)  # fmt: skip


if __name__ == "__main__":
    main()

"""Make the LangSmith fixtures: the real langsmith SDK (``@traceable``, ``wrap_openai``,
``Client.create_feedback``) sends runs and feedback to a capture server on 127.0.0.1, and the
OpenAI calls go to fixture_server.OpenAIServer. Rerun in the fixture venv (see make_otlp.py):
``/tmp/fixture-venv/bin/python tests/data/make_langsmith.py``.

The capture server answers ``GET /info`` with a batch-ingest config that has the multipart
endpoint off, so the SDK posts ``{"post": [...], "patch": [...]}`` to ``/runs/batch`` (the shape
its own integration tests record). Output in tests/data/langsmith/:

- runs_batch.jsonl — each captured ``/runs/batch`` body as one line, byte for byte;
- runs.jsonl — the same run dicts one per line (posts, then patches), as a script dumping
  what the SDK serialised would write them; a run's post and patch are merged by id on reading;
- feedback.jsonl — each captured ``POST /feedback`` body as one line.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "langsmith"
sys.path.insert(0, str(HERE))

from fixture_server import (  # noqa: E402
    CaptureServer,
    OpenAIServer,
    drive_openai,
    quiet_env,
    record_versions,
    versions,
)

INFO = {"version": "0.10.0", "license_expiration_time": None,
        "batch_ingest_config": {"use_multipart_endpoint": False, "scale_up_qsize_trigger": 1000,
                                "scale_up_nthreads_limit": 1, "scale_down_nempty_trigger": 4,
                                "size_limit": 100, "size_limit_bytes": 20971520},
        "instance_flags": {}}  # fmt: skip


def respond(method: str, path: str, headers: dict, body: bytes):
    if path.startswith("/info"):
        return 200, INFO
    if path.startswith("/feedback"):
        sent = json.loads(body or b"{}")
        return 200, {**sent, "id": sent.get("id") or str(uuid.uuid4())}
    return 202, {}


def main() -> None:
    os.environ.update(quiet_env())
    os.environ.update({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "ls-local",
                       "LANGSMITH_DISABLE_RUN_COMPRESSION": "true"})  # fmt: skip
    import langsmith
    import openai
    from langsmith.run_helpers import get_current_run_tree
    from langsmith.wrappers import wrap_openai

    OUT.mkdir(exist_ok=True)
    with CaptureServer(respond) as capture, OpenAIServer() as server:
        os.environ["LANGSMITH_ENDPOINT"] = capture.url
        client = langsmith.Client(api_url=capture.url, api_key="ls-local")
        oai = wrap_openai(openai.OpenAI(api_key="sk-local", base_url=server.base_url,
                                        max_retries=0))  # fmt: skip
        seen: dict[str, str] = {}

        @langsmith.traceable(run_type="tool", name="get_weather")
        def get_weather(city: str) -> str:
            return f"rainy in {city}"

        @langsmith.traceable(run_type="chain", name="answer", client=client)
        def answer(question: str) -> str:
            seen["trace"] = str(get_current_run_tree().trace_id)
            get_weather("Paris")
            time.sleep(1.5)  # the SDK sends this run's start now, and its end in a later patch
            drive_openai(oai)
            return "done"

        with langsmith.tracing_context(client=client, project_name="fixtures", enabled=True):
            answer("Weather in Paris?", langsmith_extra={
                "metadata": {"thread_id": "thread-1", "user_id": "user-9"},
                "tags": ["fixtures"]})  # fmt: skip
        client.flush()
        posts = [json.loads(r["body"]) for r in capture.taken("/runs/batch")]
        llm_runs = [p for payload in posts for p in payload.get("post", [])
                    if p.get("run_type") == "llm"]  # fmt: skip
        client.create_feedback(llm_runs[1]["id"], key="correctness", score=1,
                               comment="matches the tool result",
                               feedback_source_type="model")  # fmt: skip
        client.create_feedback(seen["trace"], key="user_rating", score=0, value="too long",
                               source_info={"user_name": "ana"})  # fmt: skip
        client.create_feedback(llm_runs[0]["id"], key="edited", correction={"content": "Rain."},
                               feedback_source_type="api")  # fmt: skip
        feedback = [r["body"] for r in capture.taken("/feedback")]
        batches = [r["body"] for r in capture.taken("/runs/batch")]
    (OUT / "runs_batch.jsonl").write_bytes(b"".join(b + b"\n" for b in batches))
    runs = [run for key in ("post", "patch") for p in posts for run in p.get(key) or []]
    (OUT / "runs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in runs))
    (OUT / "feedback.jsonl").write_bytes(b"".join(b + b"\n" for b in feedback))
    record_versions(["langsmith/runs_batch.jsonl", "langsmith/runs.jsonl",
                     "langsmith/feedback.jsonl"], versions("langsmith", "openai"))  # fmt: skip


if __name__ == "__main__":
    main()

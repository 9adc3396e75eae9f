"""Make the Braintrust fixtures: the real braintrust SDK (`init_logger`, `@traced`,
`wrap_openai`, `span.log`, `log_feedback`) logs to a capture server on 127.0.0.1 that answers
its login, project and version calls, and the OpenAI calls go to ../fixture_server.OpenAIServer
(no network). Run it in a virtualenv of its own:

    python -m venv /tmp/bt-fmt-venv && /tmp/bt-fmt-venv/bin/pip install -e . braintrust openai
    /tmp/bt-fmt-venv/bin/python tests/data/braintrust/make_braintrust.py

Output in tests/data/braintrust/:

- sdk_rows.jsonl — every row the SDK posted to `/logs3`, one per line, in the order sent: a
  span's first row, then its `_is_merge` updates (output, metrics, end time, scores), and the
  comment row `log_feedback(comment=…)` writes (`origin.id`, `comment.text`);
- project_logs/part-000001.jsonl — the same logs as `bt sync pull project_logs:<project>`
  writes them: one stored span row per line, newest first (`sort: _pagination_key DESC`), as
  the BTQL `select: * | from: project_logs(...) spans` query `bt sync` runs returns them. That
  query is Braintrust's server, which no package reproduces; the script stands in for it the way
  the server stores rows: `_is_merge` rows deep-merged into the row with the same `id` (a
  non-merge row replaces it), the audit fields (`_audit_source`, `_audit_metadata`) and
  `_is_merge` dropped, the server's `_xact_id`, `_pagination_key` and `org_id` added, comment
  rows left out (they are not spans).

The calls: a root `answer` function span (user/session metadata and tags), a `get_weather` tool
span, the four calls of fixture_server.drive_openai under `wrap_openai` (two parallel tool
calls; tool results → text; streamed; 404), a `lookup` function that raises, a score logged on
the root by code (`span.log(scores=…)`) and user feedback on the second call
(`log_feedback(scores=…, comment=…, source="external")`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fixture_server import (  # noqa: E402
    CaptureServer,
    OpenAIServer,
    drive_openai,
    quiet_env,
    record_versions,
    versions,
)

PROJECT = "reviewdeck-fixtures"


def respond(capture_url: str):
    def answer(method: str, path: str, headers: dict, body: bytes):
        if path.startswith("/api/apikey/login"):
            return 200, {"org_info": [{"id": "org-fixtures", "name": "fixtures",
                                       "api_url": capture_url(), "proxy_url": capture_url(),
                                       "git_metadata": None}]}  # fmt: skip
        if path.startswith("/v1/project"):
            return 200, {"id": "proj-fixtures", "name": PROJECT, "org_id": "org-fixtures"}
        if path.startswith("/version"):
            return 200, {"logs3_payload_max_bytes": None}
        return 200, {}

    return answer


def merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def stored(rows: list[dict]) -> list[dict]:
    """The rows as Braintrust's server stores them (see the module docstring)."""
    by_id: dict[str, dict] = {}
    for row in rows:
        if "comment" in row and "origin" in row:
            continue
        clean = {k: v for k, v in row.items() if not k.startswith(("_audit", "_is_merge"))}
        if row.get("_is_merge") and row["id"] in by_id:
            by_id[row["id"]] = merge(by_id[row["id"]], clean)
        else:
            by_id[row["id"]] = clean
    out = []
    for n, row in enumerate(by_id.values(), start=1):
        xact = str(1000192000000000 + n)
        out.append({**row, "_xact_id": xact, "_pagination_key": f"p{xact}",
                    "org_id": "org-fixtures"})  # fmt: skip
    return out[::-1]


def run() -> None:
    import braintrust
    import openai

    capture = CaptureServer(respond(lambda: capture.url))
    with capture, OpenAIServer() as server:
        logger = braintrust.init_logger(project=PROJECT, api_key="bt-local",
                                        app_url=capture.url, async_flush=False)  # fmt: skip
        client = braintrust.wrap_openai(
            openai.OpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)
        )

        @braintrust.traced(type="tool", name="get_weather")
        def get_weather(city: str) -> str:
            return "rainy, 14°C"

        @braintrust.traced(name="lookup")
        def lookup(key: str) -> str:
            raise KeyError(key)

        with logger.start_span(name="answer", type="task") as root:
            root.log(input={"question": "Weather in Paris?"},
                     metadata={"user_id": "user-9", "session_id": "thread-1",
                               "environment": "fixtures"},
                     tags=["fixtures"])  # fmt: skip
            get_weather("Paris")
            drive_openai(client)
            try:
                lookup("population")
            except KeyError:
                pass
            root.log(output="It is rainy in Paris, 14°C.", scores={"answered": 1})
        logger.flush()
        second = [r for r in _rows(capture)
                  if r.get("span_attributes", {}).get("name") == "Chat Completion"][1]  # fmt: skip
        logger.log_feedback(id=second["id"], scores={"helpful": 0.75},
                            comment="right answer, a bit short", source="external",
                            metadata={"user_id": "user-9"})  # fmt: skip
        logger.flush()
        rows = _rows(capture)
    with (HERE / "sdk_rows.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    part = HERE / "project_logs" / "part-000001.jsonl"
    part.parent.mkdir(exist_ok=True)
    with part.open("w") as fh:
        for row in stored(rows):
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    record_versions(
        ["braintrust/sdk_rows.jsonl", "braintrust/project_logs/part-000001.jsonl"],
        versions("braintrust", "openai"),
    )


def _rows(capture: CaptureServer) -> list[dict]:
    return [row for req in capture.taken("/logs3") for row in json.loads(req["body"])["rows"]]


if __name__ == "__main__":
    os.environ.update(quiet_env())
    os.environ.pop("BRAINTRUST_API_KEY", None)
    run()

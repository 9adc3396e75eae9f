"""Make the Vercel AI SDK fixtures: make_vercel.mjs runs the real `ai` package (generateText
with a tool, streamText, embed; experimental_telemetry on) against fixture_server.OpenAIServer,
with the OTel-JS SDK recording the spans. Node packages live outside the repository:

    mkdir -p /tmp/fixture-node && cd /tmp/fixture-node && npm init -y && npm install ai \\
        @ai-sdk/openai @opentelemetry/api @opentelemetry/sdk-trace-base \\
        @opentelemetry/otlp-transformer @opentelemetry/resources \\
        @opentelemetry/context-async-hooks
    FIXTURE_NODE_DIR=/tmp/fixture-node python tests/data/make_vercel.py

Output: tests/data/vercel/ai-sdk.readable-spans.json (ReadableSpan fields) and ai-sdk.otlp.json
(the same spans through @opentelemetry/otlp-transformer's JSON serializer).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fixture_server import OpenAIServer, quiet_env, record_versions  # noqa: E402

PACKAGES = ("ai", "@ai-sdk/openai", "@opentelemetry/sdk-trace-base",
            "@opentelemetry/otlp-transformer")  # fmt: skip


def main() -> None:
    node_dir = Path(os.environ.get("FIXTURE_NODE_DIR", "/tmp/fixture-node"))
    out = HERE / "vercel"
    out.mkdir(exist_ok=True)
    script = node_dir / "make_vercel.mjs"  # run beside its node_modules
    shutil.copy(HERE / "make_vercel.mjs", script)
    env = {**os.environ, **quiet_env()}
    with OpenAIServer() as server:
        subprocess.run(["node", str(script), server.base_url, str(out)], check=True, env=env)
    found = {}
    for name in PACKAGES:
        meta = json.loads((node_dir / "node_modules" / name / "package.json").read_text())
        found[f"npm:{name}"] = meta["version"]
    found["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True,
                                   check=True).stdout.strip()  # fmt: skip
    record_versions(["vercel/ai-sdk.readable-spans.json", "vercel/ai-sdk.otlp.json"], found)


if __name__ == "__main__":
    main()

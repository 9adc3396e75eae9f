"""Make the agent-framework OTLP fixtures: Pydantic AI with its own OTel instrumentation, and the
OpenAI Agents SDK under OpenInference, each running one agent with a tool against
fixture_server.OpenAIServer (127.0.0.1). Spans are encoded as make_otlp.py encodes them (the
SDK's OTLP encoder, then hex ids and integer enums), one TracesData document per file in
tests/data/otlp/:

- pydantic_ai_events.traces.json — pydantic-ai-slim 0.2.16 (the line of mid-2025), whose
  ``InstrumentationSettings`` default, ``event_mode='attributes'``, writes the ≤1.36 GenAI
  conventions (``gen_ai.system``, ``gen_ai.usage.*``) with the per-message events serialised as
  JSON in an ``events`` span attribute. Later releases dropped that shape (2.x knows only
  instrumentation versions 2–6, with ``gen_ai.input.messages``), so it runs from a directory of
  its own with the openai and OTel SDK versions of its time:

      /tmp/fixture-venv/bin/pip install --target /tmp/fixture-pydantic-ai \\
          "pydantic-ai-slim[openai]==0.2.16" openai==1.86.0 opentelemetry-sdk==1.34.1 \\
          opentelemetry-exporter-otlp-proto-common==1.34.1

- openai_agents_openinference.traces.json — openai-agents with
  openinference-instrumentation-openai-agents (Responses API; the tool call and its result):

      /tmp/fixture-venv/bin/pip install openai-agents openinference-instrumentation-openai-agents

Run: ``PYDANTIC_AI_DIR=/tmp/fixture-pydantic-ai /tmp/fixture-venv/bin/python
tests/data/make_agents.py`` (each agent in its own process, as make_otlp.py does).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

QUESTION = "Weather in Paris?"
INSTRUCTIONS = "You answer in one sentence."
WEATHER = "rainy, 14°C"


def _pydantic_ai(base_url: str, provider) -> None:
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = AsyncOpenAI(api_key="sk-local", base_url=base_url, max_retries=0)
    model = OpenAIModel("gpt-4o", provider=OpenAIProvider(openai_client=client))
    settings = InstrumentationSettings(tracer_provider=provider, event_mode="attributes")
    agent = Agent(model, system_prompt=INSTRUCTIONS, instrument=settings, name="weather_agent")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return WEATHER

    agent.run_sync(QUESTION, model_settings={"temperature": 0.2, "max_tokens": 100})


def _openai_agents(base_url: str, provider) -> None:
    from agents import Agent, ModelSettings, Runner, function_tool, set_default_openai_client
    from openai import AsyncOpenAI
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    # exclusive (the default): the SDK's own processor, which would post to OpenAI, is replaced
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    client = AsyncOpenAI(api_key="sk-local", base_url=base_url, max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)

    @function_tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return WEATHER

    agent = Agent(name="Weather agent", instructions=INSTRUCTIONS, tools=[get_weather],
                  model="gpt-4.1", model_settings=ModelSettings(temperature=0.2))  # fmt: skip
    Runner.run_sync(agent, QUESTION)


RUNS = {
    "pydantic_ai": ("pydantic_ai_events.traces.json", _pydantic_ai,
                    ("pydantic-ai-slim", "pydantic-graph")),
    "openai_agents": ("openai_agents_openinference.traces.json", _openai_agents,
                      ("openai-agents", "openinference-instrumentation-openai-agents",
                       "openinference-semantic-conventions")),
}  # fmt: skip


def _run(mode: str) -> None:
    from fixture_server import OpenAIServer, record_versions, versions
    from make_otlp import _encode_spans, _providers, _write

    name, drive, libs = RUNS[mode]
    _, provider, spans = _providers(f"fixtures-{mode}")
    with OpenAIServer() as server:
        drive(server.base_url, provider)
    provider.force_flush()
    written = _write(name, _encode_spans(spans.get_finished_spans()), False)
    record_versions([written], versions("opentelemetry-sdk", "openai", *libs))


def main() -> None:
    from fixture_server import quiet_env

    modes = sys.argv[1:] or list(RUNS)
    if len(modes) == 1 and os.environ.get("_FIXTURE_CHILD"):
        _run(modes[0])
        return
    for mode in modes:
        env = {**os.environ, **quiet_env(), "_FIXTURE_CHILD": "1"}
        if mode == "pydantic_ai":
            own = os.environ.get("PYDANTIC_AI_DIR", "/tmp/fixture-pydantic-ai")
            env["PYTHONPATH"] = own + os.pathsep + env.get("PYTHONPATH", "")
        subprocess.run([sys.executable, __file__, mode], check=True, env=env, cwd=HERE)


if __name__ == "__main__":
    main()

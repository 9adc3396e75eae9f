"""The simulated demo endpoint (ingest/demo/endpoint.py), through the real openai SDK over HTTP:
chat answers from the demo's own texts, streaming with usage, judge-style JSON through
`response_format`, the rerun judge's pairwise format, and how reviewdeck declares it."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from ingest.demo import endpoint as sim
from ingest.demo.text import ALL_GROUPS
from models.rerun import llm_client
from models.rerun.endpoints import list_endpoints
from models.rerun.judge import judge_messages, parse_choice

NO_SECRETS = Path("/nonexistent/secrets.toml")
REFUND = next(it for g in ALL_GROUPS for it in g.intents if it.name == "refund_request")
GOOD = (
    "Refunds for Orbit Plus are available within 30 days of a charge. Open the Orbit app, go to "
    "Account > Billing > Charges, select the $9.99 charge from March and tap Request refund."
)
BAD = sim.BAD_ANSWERS[0]
QUESTION = [
    {"role": "system", "content": "You are Orbit's customer support assistant."},
    {"role": "user", "content": "I want a refund for my Orbit Plus subscription, I was charged "
     "$9.99 in March"},
]  # fmt: skip
VERDICT_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "verdict", "strict": True, "schema": {
        "type": "object", "additionalProperties": False, "required": ["verdict", "reason"],
        "properties": {"verdict": {"type": "string", "enum": ["pass", "fail"]},
                       "reason": {"type": "string"}}}},
}  # fmt: skip
SCORE_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "score", "schema": {
        "type": "object", "required": ["score", "reason"],
        "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                       "reason": {"type": "string"}}}},
}  # fmt: skip


@pytest.fixture(scope="module")
def client():
    with sim.DemoEndpoint(port=0, latency_s=0.01) as ep:
        yield openai.OpenAI(base_url=ep.base_url, api_key="not-needed", max_retries=0)


def _judge(client, answer: str, response_format: dict) -> dict:
    messages = [
        {"role": "system", "content": "You are a strict judge of support answers."},
        {"role": "user", "content": f"<input>\nwhere is my refund?\n</input>\n"
                                    f"<output>\n{answer}\n</output>"},
    ]  # fmt: skip
    resp = client.chat.completions.create(
        model="simulated-orbit-large", messages=messages, response_format=response_format
    )
    return json.loads(resp.choices[0].message.content)


def test_models_are_listed_and_named_simulated(client) -> None:
    models = client.models.list()
    assert [m.id for m in models] == list(sim.MODELS)
    assert all("simulated" in m.id and "simulated" in m.owned_by for m in models)


def test_chat_answers_with_the_demo_text_for_the_intent(client) -> None:
    resp = client.chat.completions.create(model="simulated-orbit-large", messages=QUESTION)
    text = resp.choices[0].message.content
    # One of the intent's reference answers, with the slots the question named.
    assert any(a.split("{")[0][:25] in text for a in REFUND.answers), text
    assert "Orbit Plus" in text or "$9.99" in text
    assert resp.model == "simulated-orbit-large"
    assert resp.system_fingerprint == sim.FINGERPRINT
    assert resp.usage.prompt_tokens > 20 and resp.usage.completion_tokens > 10
    again = client.chat.completions.create(model="simulated-orbit-large", messages=QUESTION)
    assert again.choices[0].message.content == text  # deterministic


def test_the_mini_model_gives_some_bad_answers(client) -> None:
    bad = 0
    for n in range(40):
        messages = [{"role": "user", "content": f"my Orbit Cam is offline for {n} days"}]
        text = client.chat.completions.create(model="simulated-orbit-mini", messages=messages)
        bad += text.choices[0].message.content in sim.BAD_ANSWERS
    assert 3 <= bad <= 20  # about a quarter


def test_streaming_with_usage(client) -> None:
    stream = client.chat.completions.create(
        model="simulated-orbit-large", messages=QUESTION, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    plain = client.chat.completions.create(model="simulated-orbit-large", messages=QUESTION)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == plain.usage.total_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_json_schema_verdicts_follow_the_answer(client) -> None:
    good, bad = _judge(client, GOOD, VERDICT_SCHEMA), _judge(client, BAD, VERDICT_SCHEMA)
    assert set(good) == {"verdict", "reason"} and good["verdict"] == "pass"
    assert bad["verdict"] == "fail" and "simulated" in bad["reason"]
    good, bad = _judge(client, GOOD, SCORE_SCHEMA), _judge(client, BAD, SCORE_SCHEMA)
    assert isinstance(good["score"], int) and good["score"] >= 4 and 1 <= bad["score"] <= 2


def test_json_object_answers_a_valid_object(client) -> None:
    verdict = _judge(client, BAD, {"type": "json_object"})
    assert verdict["verdict"] == "fail" and verdict["reason"]


def test_the_rerun_judge_reads_its_pairwise_reply(client) -> None:
    messages = judge_messages(QUESTION, BAD, GOOD)
    resp = client.chat.completions.create(model="simulated-orbit-large", messages=messages)
    choice = parse_choice(resp.choices[0].message.content)
    assert choice.readable and choice.preferred == "2"


def test_unknown_model_is_a_404_naming_the_simulated_models(client) -> None:
    with pytest.raises(openai.NotFoundError, match="simulated-orbit-mini"):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)


def test_declared_as_a_keyless_endpoint_reviewdeck_calls() -> None:
    with sim.DemoEndpoint(port=0, latency_s=0.0) as ep:
        found = list_endpoints(env=sim.env_vars(ep.base_url), secrets=NO_SECRETS)
        endpoint = found[sim.NAME]
        assert endpoint.models == sim.MODELS and not endpoint.has_key
        assert endpoint.kind == "compatible" and endpoint.base_url == ep.base_url
        client = llm_client.make_client(endpoint)
        result = llm_client.chat(client, "simulated-orbit-large", QUESTION, {})
        assert result.status == "ok" and result.tokens_out and "refund" in result.text.lower()
    assert ep.server.requests == 1

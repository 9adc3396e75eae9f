"""Each built-in check on cases it must catch, cases it must pass, and cases it abstains on."""

from __future__ import annotations

import json

import pytest

from models.evaluators import builtins as b
from models.evaluators.event import Event
from tests.models.evaluators.evdata import event


def ev(**kw) -> Event:
    row = event("e1", **{k: v for k, v in kw.items() if k in ("question", "answer")})
    row.update({k: v for k, v in kw.items() if k not in ("question", "answer")})
    for c in ("input_messages", "output_messages", "params", "raw"):
        if row.get(c) is not None and not isinstance(row[c], str):
            row[c] = json.dumps(row[c])
    return Event(row)


def verdict(check, e: Event) -> bool | None:
    v = check(e)
    return None if v is None else v.value == 1.0


# -- empty or truncated --
def test_empty_answers_fail_tool_only_answers_pass() -> None:
    assert verdict(b.empty_or_truncated, ev(answer="   ")) is False
    assert verdict(b.empty_or_truncated, ev(answer=None, output_messages=[])) is False
    tool_only = ev(answer=None, output_messages=[{"role": "assistant", "content": None,
        "tool_calls": [{"id": "1", "type": "function",
                        "function": {"name": "f", "arguments": "{}"}}]}])
    assert verdict(b.empty_or_truncated, tool_only) is True
    assert verdict(b.empty_or_truncated, ev()) is True
    assert verdict(b.empty_or_truncated, ev(status="error", answer=None)) is None


@pytest.mark.parametrize("where", [
    {"output_messages": [{"role": "assistant", "content": "The card", "finish_reason": "length"}]},
    {"raw": {"choices": [{"index": 0, "finish_reason": "length", "message": {}}]}},
    {"raw": {"stop_reason": "max_tokens"}},
    {"raw": {"candidates": [{"finishReason": "MAX_TOKENS"}]}},
    {"raw": {"attributes": [{"key": "gen_ai.response.finish_reasons",
                             "value": {"arrayValue": {"values": [{"stringValue": "length"}]}}}]}},
    {"raw": {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}},
    {"params": {"max_tokens": 20}, "tokens_out": 20},
])
def test_truncation_is_found_in_each_format(where: dict) -> None:
    v = b.empty_or_truncated(ev(**where))
    assert v is not None and v.value == 0.0 and v.reason.startswith("truncated")


def test_a_stop_finish_is_not_truncation() -> None:
    assert verdict(b.empty_or_truncated, ev(raw={"choices": [{"finish_reason": "stop"}]},
                                            params={"max_tokens": 500})) is True


# -- refusals --
@pytest.mark.parametrize("answer", [
    "I'm sorry, but I can't help with that request.",
    "I’m sorry, I cannot assist with creating that.",
    "I cannot provide instructions for bypassing the card's security.",
    "Unfortunately, I am unable to share other customers' account details.",
    "As an AI language model, I don't have access to your bank account.",
    "I must decline to answer that.",
    "That request goes against our content policy.",
    "I'm not allowed to discuss internal fraud rules.",
    "Désolé, mais je ne peux pas vous aider avec cette demande.",
    "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
    "Lo siento, pero no puedo ayudarte con eso.",
    "Mi dispiace, ma non posso aiutarti con questa richiesta.",
    "Desculpe, mas não posso ajudar com isso.",
])
def test_refusals_in_many_phrasings(answer: str) -> None:
    v = b.refusal(ev(answer=answer))
    assert v is not None and v.value == 0.0, answer


@pytest.mark.parametrize("answer", [
    "Your card was declined because the balance was too low; top it up and try again.",
    "Sorry for the wait! Your card is active again.",
    "You can't use this card abroad until you enable travel mode in the app.",
    "I can help with that: open Settings > Cards and tap Unlock.",
])
def test_answers_that_only_look_like_refusals_pass(answer: str) -> None:
    assert verdict(b.refusal, ev(answer=answer)) is True


def test_api_refusal_field_and_content_filter() -> None:
    msg = [{"role": "assistant", "content": None, "refusal": "I can't help with that."}]
    assert verdict(b.refusal, ev(answer=None, output_messages=msg)) is False
    assert verdict(b.refusal, ev(raw={"choices": [{"finish_reason": "content_filter"}]})) is False


# -- invalid JSON --
def test_json_mode_answers() -> None:
    asked = {"response_format": {"type": "json_object"}}
    assert verdict(b.invalid_json, ev(params=asked, answer='{"ok": true}')) is True
    v = b.invalid_json(ev(params=asked, answer='{"ok": true'))
    assert v.value == 0.0 and "does not parse" in v.reason
    v = b.invalid_json(ev(params=asked, answer='```json\n{"ok": true}\n```'))
    assert v.value == 0.0 and "fence" in v.reason
    assert verdict(b.invalid_json, ev(answer="not json at all")) is None  # JSON not asked for


def test_json_schema_is_checked() -> None:
    schema = {"type": "object", "properties": {"amount": {"type": "number"}},
              "required": ["amount"]}
    asked = {"response_format": {"type": "json_schema",
                                 "json_schema": {"name": "x", "schema": schema}}}
    assert verdict(b.invalid_json, ev(params=asked, answer='{"amount": 12.5}')) is True
    v = b.invalid_json(ev(params=asked, answer='{"amount": "twelve"}'))
    assert v.value == 0.0 and "amount" in v.reason and "schema" in v.reason
    # the Responses API keeps it under text.format, in the source record
    raw = {"request": {"text": {"format": {"type": "json_schema", "name": "x",
                                           "schema": schema}}}}
    assert verdict(b.invalid_json, ev(raw=raw, answer='{"other": 1}')) is False


# -- tool-call arguments --
TOOLS = [{"type": "function", "function": {"name": "lookup_card", "parameters": {
    "type": "object", "properties": {"card_id": {"type": "string"}},
    "required": ["card_id"], "additionalProperties": False}}}]


def call(arguments: str, name: str = "lookup_card") -> list[dict]:
    return [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": name, "arguments": arguments}}]}]


@pytest.mark.parametrize(("arguments", "name", "ok", "reason"), [
    ('{"card_id": "c-1"}', "lookup_card", True, None),
    ('{"card_id": "c-1"', "lookup_card", False, "do not parse"),
    ('["c-1"]', "lookup_card", False, "not a JSON object"),
    ('{"card": "c-1"}', "lookup_card", False, "schema"),
    ('{"card_id": 7}', "lookup_card", False, "schema"),
    ('{"card_id": "c-1"}', "block_card", False, "no such tool"),
])
def test_tool_call_arguments(arguments: str, name: str, ok: bool, reason: str | None) -> None:
    v = b.tool_call_arguments(ev(answer=None, output_messages=call(arguments, name),
                                 raw={"tools": TOOLS}))
    assert v.value == (1.0 if ok else 0.0)
    if reason:
        assert reason in v.reason


def test_tool_calls_without_definitions_are_only_parsed() -> None:
    assert verdict(b.tool_call_arguments, ev(output_messages=call('{"x": 1}'))) is True
    assert verdict(b.tool_call_arguments, ev(output_messages=call("{x: 1}"))) is False
    assert verdict(b.tool_call_arguments, ev()) is None  # no tool calls: does not apply


# -- language --
@pytest.mark.parametrize(("question", "answer"), [
    ("Pourquoi ma carte a-t-elle été refusée hier au magasin ?",
     "Your card was declined because the balance was too low."),
    ("Warum wurde meine Karte gestern im Laden abgelehnt?",
     "Your card was declined because the balance was too low."),
    ("Why was my card declined at the shop yesterday?",
     "Su tarjeta fue rechazada porque el saldo era demasiado bajo para la compra."),
    ("なぜ昨日お店でカードが拒否されたのですか？",
     "Your card was declined because the balance was too low."),
])
def test_answer_in_another_language_fails(question: str, answer: str) -> None:
    v = b.language_mismatch(ev(question=question, answer=answer))
    assert v is not None and v.value == 0.0 and "question in" in v.reason


def test_same_language_passes_and_unsure_or_translation_abstains() -> None:
    assert verdict(b.language_mismatch, ev(
        question="¿Por qué rechazaron mi tarjeta ayer en la tienda?",
        answer="Su tarjeta fue rechazada porque el saldo era demasiado bajo.")) is True
    assert verdict(b.language_mismatch, ev()) is True
    assert verdict(b.language_mismatch, ev(question="ok?", answer="Yes, it is done.")) is None
    assert verdict(b.language_mismatch, ev(
        question="Translate into French: why was my card declined at the shop?",
        answer="Pourquoi ma carte a-t-elle été refusée au magasin ?")) is None


def test_hostile_events_do_not_break_the_checks() -> None:
    deep = "[" * 5000 + "]" * 5000
    huge = "I'm sorry, " + "x" * 2_000_000
    e = Event({**event("h"), "output_text": huge, "raw": deep, "params": "{not json",
               "output_messages": "[1, 2, {\"tool_calls\": 7}]", "input_messages": None})
    for check in b.BUILTINS.values():
        check.check(e)  # must not raise
    remote = {"$ref": "https://example.invalid/schema.json"}
    asked = {"response_format": {"type": "json_schema", "json_schema": {"schema": remote}}}
    assert verdict(b.invalid_json, ev(params=asked, answer='{"a": 1}')) is True  # no fetch


def test_a_null_refusal_field_in_the_source_record_is_no_refusal() -> None:
    # a real OpenAI response: finish_reason stop, then message.refusal null (found by running the
    # checks over the project's own format fixtures)
    raw = {"choices": [{"finish_reason": "stop", "index": 0, "logprobs": None,
                        "message": {"content": "Hi!", "refusal": None, "role": "assistant"}}]}
    assert verdict(b.refusal, ev(raw=raw)) is True
    assert verdict(b.empty_or_truncated, ev(raw=raw)) is True


def test_finish_reason_inside_an_otel_attribute_string() -> None:
    inner = json.dumps([{"role": "assistant", "finish_reason": "length"}])
    raw = {"attributes": [{"key": "gen_ai.output.messages", "value": {"stringValue": inner}}]}
    assert verdict(b.empty_or_truncated, ev(raw=raw)) is False

"""The built-ins on a real source format: OpenAI request/response logs (tests/data/openai), the
plain logs most teams bring first, with a failure of each kind planted, through the real loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ingest.db import connect
from models.evaluators import run
from tests.conftest import DATA


def _plant(record: dict, kind: str) -> dict:
    r = copy.deepcopy(record)
    r["response"]["id"] = f"{r['response']['id']}-{kind}"
    choice = r["response"]["choices"][0]
    msg = choice["message"]
    if kind == "truncated":
        choice["finish_reason"] = "length"
        msg.update(content="The weather in Paris is", tool_calls=None)
    elif kind == "refusal":
        msg.update(content="I'm sorry, but I can't help with that request.", tool_calls=None)
        choice["finish_reason"] = "stop"
    elif kind == "json":
        r["request"]["response_format"] = {"type": "json_object"}
        msg.update(content="Sure! Here it is: {city: Paris}", tool_calls=None)
        choice["finish_reason"] = "stop"
    elif kind == "tool_args":
        msg["tool_calls"][0]["function"]["arguments"] = '{"town": "Paris"}'
    elif kind == "language":
        r["request"]["messages"] = [{"role": "user", "content":
                                     "Quel temps fait-il à Paris aujourd'hui, s'il vous plaît ?"}]
        msg.update(content="The weather in Paris today is sunny and warm, with a light breeze.",
                   tool_calls=None)
        choice["finish_reason"] = "stop"
    return r


def test_each_planted_failure_is_caught_and_nothing_else(db_path: Path, tmp_path: Path) -> None:
    from ingest.load.loader import load_source
    from ingest.load.read import expand

    lines = (DATA / "openai" / "logs.jsonl").read_text(encoding="utf-8").splitlines()
    base = next(json.loads(x) for x in lines if "tool_calls" in x and '"response"' in x)
    kinds = ["truncated", "refusal", "json", "tool_args", "language"]
    log = tmp_path / "planted.jsonl"
    log.write_text("\n".join([*lines, *(json.dumps(_plant(base, k)) for k in kinds)]) + "\n",
                   encoding="utf-8")
    for src in expand([str(log)]):
        assert load_source(db_path, src).rejected == 0
    run(db_path)
    with connect(db_path, read_only=True) as con:
        fails = con.execute(
            "SELECT v.evaluator, e.raw->>'$.response.id' FROM evaluations v JOIN events e "
            "USING (event_id) WHERE v.value < 0.5 ORDER BY 1").fetchall()
    caught = {(name, rid.rsplit("-", 1)[-1]) for name, rid in fails}
    assert caught == {("empty_or_truncated", "truncated"), ("refusal", "refusal"),
                      ("invalid_json", "json"), ("tool_call_arguments", "tool_args"),
                      ("language_mismatch", "language")}

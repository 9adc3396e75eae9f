"""A simulated, OpenAI-compatible model endpoint for the demo: no key, no network, no weights.

`reviewdeck demo` starts it on 127.0.0.1 beside the dashboard, so a newcomer can try the
playground, a batch rerun and an LLM evaluator on the demo data without a key. Everything about
it says "simulated": the endpoint is named `demo_simulated`, its models `simulated-orbit-mini`
and `simulated-orbit-large`, and every answer's `system_fingerprint` is `reviewdeck-demo-simulated`.

What it answers, deterministically (a hash of the request picks every variant):
- a chat: the demo generator's own reference answer (ingest/demo/text.py) for the intent the
  conversation's user turns match best, slots filled from the conversation where it names them;
  the mini model gives a generic non-answer to about a quarter of the prompts, the large one to
  about a tenth, so a judge has something to fail;
- a judge prompt (a `response_format` of `json_object` or `json_schema`, or a prompt that asks
  for JSON): a JSON object with a plausible verdict — pass/fail, a 1-5 score, one of the schema's
  labels, or the rerun judge's `preferred` — from whether the judged answer reads like the
  demo's good wording or its bad one.

Served: `POST /v1/chat/completions` (JSON, or SSE when `stream` is true, with the usage chunk
when `stream_options.include_usage` is set) and `GET /v1/models`. Usage counts tokens roughly
(words and punctuation); each call waits `latency_s` (default 50 ms).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ingest.demo.text import ALL_GROUPS, CLOSERS, CONTEXTS, PREFIXES, SLOTS, SUFFIXES

NAME = "demo_simulated"  # as `reviewdeck` names endpoints: REVIEWDECK_ENDPOINT_DEMO_SIMULATED_*
MODELS = ("simulated-orbit-mini", "simulated-orbit-large")
BAD_SHARE = {"simulated-orbit-mini": 0.25, "simulated-orbit-large": 0.10}
FINGERPRINT = "reviewdeck-demo-simulated"
OWNER = "reviewdeck-demo (simulated)"
DEFAULT_PORT = 8599
LATENCY_S = 0.05

# The simulation's bad wording: generic answers that do not address the question.
BAD_ANSWERS = (
    "I'm not sure about that. Please contact Orbit support for help with your question.",
    "Thanks for reaching out! Could you check the Orbit website? I can't help with this one.",
    "That depends on your setup. Try restarting everything and contact support if it persists.",
)
_BAD_MARKERS = ("contact orbit support for help", "i can't help with this", "try restarting "
                "everything", "i'm not sure about that")  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_STOP = frozenset(
    "a an and are as at be but by can do for from had has have how i if in is it its me my no "
    "not of on or our so that the their them then there this to was we were what when where "
    "which who why will with you your please thanks hi hello hey".split()
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _strip_slots(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", " ", template)


# (group, intent, words of its questions, words of its answers)
_INTENTS = [
    (g, it, _words(" ".join(map(_strip_slots, (*it.questions, it.foreign[1])))),
     _words(" ".join(map(_strip_slots, it.answers))))
    for g in ALL_GROUPS for it in g.intents
]  # fmt: skip
# The generator's greetings and asides around a question say nothing about its intent.
_NOISE = frozenset(w for t in (*PREFIXES, *CONTEXTS, *SUFFIXES) for w in _WORD.findall(
    re.sub(r"\{[a-z_]+\}", " ", t).lower()))  # fmt: skip
# Rarer words tell intents apart: each counts log(intents / intents using it).
_IDF = {
    w: math.log(len(_INTENTS) / n)
    for w, n in Counter(w for _, _, q, _ in _INTENTS for w in q).items()
}


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _best_intent(text: str):
    words = _words(text)
    words = (words - _NOISE) or words
    best, best_score = None, 0.0
    for g, it, qwords, _ in _INTENTS:
        score = sum(_IDF[w] for w in words & qwords) / (len(qwords) ** 0.25 or 1.0)
        if score > best_score:
            best, best_score = (g, it), score
    return best if best_score >= 0.5 else None


class _Slots(dict):
    """Slot values: the one the conversation names, else one picked by the hash."""

    def __init__(self, text: str, h: int) -> None:
        super().__init__()
        self.text, self.h = text.lower(), h

    def __missing__(self, key: str) -> str:
        values = SLOTS[key]
        named = [v for v in values if v.lower() in self.text]
        value = max(named, key=len) if named else values[(self.h >> (3 * len(self))) % len(values)]
        self[key] = value
        return value


def answer(model: str, messages: list[dict[str, Any]]) -> str:
    """The simulated assistant's answer to a conversation."""
    users = [_content(m) for m in messages if m.get("role") == "user"]
    last = users[-1] if users else ""
    h = _hash(model, json.dumps(messages, sort_keys=True, default=str))
    if (h % 1000) / 1000 < BAD_SHARE.get(model, 0.0):
        return BAD_ANSWERS[(h >> 10) % len(BAD_ANSWERS)]
    found = _best_intent(last) or _best_intent(" ".join(users))
    if found is None:
        return (
            "I'm Orbit's support assistant (a simulated demo model). I can help with your Orbit "
            "devices, your subscription, orders and billing: what would you like to do?"
        )
    g, it = found
    slots = _Slots(" ".join(users), h >> 12)
    text = it.answers[(h >> 20) % len(it.answers)].format_map(slots)
    opener = g.openers[(h >> 24) % len(g.openers)]
    closer = CLOSERS[(h >> 28) % len(CLOSERS)]
    return " ".join(p for p in (opener, text, closer) if p)


def quality(text: str) -> float:
    """How good an answer reads, 0..1: the demo's bad wording low, its reference answers high."""
    low = text.lower()
    if any(marker in low for marker in _BAD_MARKERS) or not low.strip():
        return 0.15
    words = _words(text)
    best = max((len(words & awords) / (len(awords) or 1) for *_, awords in _INTENTS), default=0)
    return 0.9 if best >= 0.5 else 0.6 if best >= 0.25 else 0.35


_SECTION = re.compile(
    r"<(answer|output|response|assistant_answer)(?: ?(\d))?>\s*(.*?)\s*</\1(?: ?\2)?>", re.S | re.I
)


def _judged_answers(prompt: str) -> list[str]:
    """The answers a judge prompt shows, in order: tagged sections, else its last part."""
    found = [m.group(3) for m in _SECTION.finditer(prompt)]
    if found:
        return found
    for marker in ("answer:", "output:", "response:"):
        at = prompt.lower().rfind(marker)
        if at >= 0:
            return [prompt[at + len(marker):]]
    return [prompt]


def _verdict_fields(schema: dict[str, Any] | None, prompt: str, q: float, h: int) -> dict:
    """A JSON verdict matching `schema` (a JSON schema object) or what the prompt asks for."""
    passed = q >= 0.5
    score = 5 if q >= 0.85 else 4 if q >= 0.55 else 2 if q >= 0.3 else 1
    reason = (
        "The answer addresses the question with the right steps (simulated judge)."
        if passed
        else "The answer is generic and does not address the question (simulated judge)."
    )
    props = (schema or {}).get("properties") or {}
    if not props:
        low = prompt.lower()
        if "1-5" in low or "1 to 5" in low or '"score"' in low:
            return {"score": score, "reason": reason}
        labels = re.findall(r'"([a-z_ -]{2,30})"\s*(?:\||,|or)', low)
        if "pass" in low or "fail" in low or not labels:
            return {"verdict": "pass" if passed else "fail", "reason": reason}
        return {"label": labels[(h >> 4) % len(labels)], "reason": reason}
    out: dict[str, Any] = {}
    for key, spec in props.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type")
        enum = spec.get("enum")
        lkey = key.lower()
        if enum:
            wanted = ("pass", "yes", "true", "good") if passed else ("fail", "no", "false", "bad")
            hit = [e for e in enum if str(e).lower() in wanted]
            out[key] = hit[0] if hit else enum[(h >> 4) % len(enum)]
        elif kind == "boolean":
            out[key] = passed
        elif kind in ("integer", "number"):
            lo, hi = spec.get("minimum", 1), spec.get("maximum", 5)
            out[key] = max(lo, min(hi, score if hi >= 5 else round(lo + (hi - lo) * q)))
        elif any(w in lkey for w in ("reason", "rational", "explan", "comment", "why")):
            out[key] = reason
        elif any(w in lkey for w in ("verdict", "pass", "result", "label", "decision")):
            out[key] = "pass" if passed else "fail"
        elif kind == "array":
            out[key] = []
        else:
            out[key] = reason
    return out


def judge_reply(messages: list[dict[str, Any]], response_format: dict[str, Any] | None) -> str:
    """The JSON a judge-style request gets."""
    prompt = "\n".join(_content(m) for m in messages)
    h = _hash(prompt)
    answers = _judged_answers(prompt)
    if "preferred" in prompt and len(answers) >= 2:
        q1, q2 = quality(answers[0]), quality(answers[1])
        preferred = "tie" if abs(q1 - q2) < 0.1 else ("1" if q1 > q2 else "2")
        why = "Both answers are equally useful." if preferred == "tie" else (
            f"Answer {preferred} addresses the question; the other is generic.")
        return json.dumps({"preferred": preferred, "rationale": why + " (simulated judge)"})
    schema = None
    if response_format and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
    return json.dumps(_verdict_fields(schema, prompt, quality(answers[-1]), h))


def _wants_json(body: dict[str, Any]) -> bool:
    rf = body.get("response_format") or {}
    if isinstance(rf, dict) and rf.get("type") in ("json_object", "json_schema"):
        return True
    system = " ".join(
        _content(m) for m in body.get("messages") or [] if m.get("role") == "system"
    ).lower()
    return "json" in system and ("judge" in system or "reply with" in system)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def reply(body: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """(text, usage) for a chat-completions request body."""
    messages = body.get("messages") or []
    if _wants_json(body):
        text = judge_reply(messages, body.get("response_format"))
    else:
        text = answer(str(body.get("model")), messages)
    prompt = sum(count_tokens(_content(m)) + 4 for m in messages) + 3
    completion = count_tokens(text)
    return text, {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: DemoServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:  # quiet: the demo's terminal is the user's
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error",
                                      "param": None, "code": code}})  # fmt: skip

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            self._send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": OWNER} for m in MODELS]})
        elif "/models/" in path and path.rsplit("/", 1)[1] in MODELS:
            self._send(200, {"id": path.rsplit("/", 1)[1], "object": "model", "created": 0,
                             "owned_by": OWNER})  # fmt: skip
        else:
            self._error(404, f"no such path {path} on the simulated demo endpoint")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no such path {self.path} on the simulated demo endpoint")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError
        except ValueError:
            self._error(400, "the body must be a JSON object with a list of messages")
            return
        model = str(body.get("model") or "")
        if model not in MODELS:
            self._error(404, f"The model `{model}` does not exist on the simulated demo "
                        f"endpoint; use one of {', '.join(MODELS)}.", "model_not_found")
            return
        text, usage = reply(body)
        time.sleep(self.server.latency_s)
        self.server.count()
        cid = f"chatcmpl-sim-{_hash(text, str(time.monotonic_ns())) % 10**12:012d}"
        head = {"id": cid, "created": int(time.time()), "model": model,
                "system_fingerprint": FINGERPRINT}  # fmt: skip
        if body.get("stream"):
            self._stream(head, text, usage, bool((body.get("stream_options") or {})
                                                 .get("include_usage")))  # fmt: skip
            return
        self._send(200, {**head, "object": "chat.completion", "choices": [{
            "index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
            "logprobs": None, "finish_reason": "stop"}], "usage": usage})  # fmt: skip

    def _stream(self, head: dict, text: str, usage: dict, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(delta: dict, finish: str | None = None, **extra: Any) -> None:
            choices = [] if delta is None else [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            data = {**head, "object": "chat.completion.chunk", "choices": choices, **extra}
            self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")

        chunk({"role": "assistant", "content": ""})
        for piece in re.findall(r"\S+\s*", text):
            chunk({"content": piece})
        chunk({}, "stop")
        if include_usage:
            chunk(None, usage=usage)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, latency_s: float) -> None:
        super().__init__((host, port), _Handler)
        self.latency_s = latency_s
        self.requests = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.requests += 1


class DemoEndpoint:
    """The simulated endpoint, served from a thread of this process: it stops with it."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 latency_s: float = LATENCY_S) -> None:  # fmt: skip
        self.server = DemoServer(host, port, latency_s)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, name="demo-endpoint",
                                        daemon=True)  # fmt: skip

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> DemoEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoEndpoint:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def env_vars(base_url: str) -> dict[str, str]:
    """The variables that declare the endpoint to reviewdeck (models/rerun/endpoints.py)."""
    prefix = "REVIEWDECK_ENDPOINT_" + NAME.upper() + "_"
    return {prefix + "BASE_URL": base_url, prefix + "KIND": "compatible",
            prefix + "MODELS": ",".join(MODELS)}  # fmt: skip

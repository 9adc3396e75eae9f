"""Turn the demo's random columns (ingest/demo.py) into native JSONL lines, streaming.

Texts need a Python loop (slots, typos, the history of multi-turn sessions), so one pass walks
the events in time order, keeps the history of open sessions only, and writes lines in chunks:
memory stays flat at 1M events. Numbers that do not depend on the text (time to first token,
error latencies, prices) are computed on whole columns first. Each JSON string is encoded once
(a system prompt is the same fragment in thousands of lines); the late feedback lines follow
the events, sorted by their time.
"""

from __future__ import annotations

from dataclasses import dataclass
from json.encoder import encode_basestring as enc  # C-accelerated JSON string
from pathlib import Path

import numpy as np
import orjson

from ingest import demo_plan as P
from ingest.demo import ERROR_TYPES, GROUP_INDEX, Sample
from ingest.demo_feedback import Clock, FeedbackWriter, gold_answer
from ingest.demo_text import (
    ALL_GROUPS,
    CLOSERS,
    ERRORS,
    FOREIGN_REPLY,
    SLOT_NAMES,
    SLOTS,
    SYSTEM_PROMPTS,
)

_SLOT_INDEX = {name: k for k, name in enumerate(SLOT_NAMES)}
MODELS = (P.MODEL_OLD, P.MODEL_NEW, P.MODEL_SMALL)  # index 0, 1, 2 in the model column
PARAMS = {
    ("orbit-support", "v3"): {"temperature": 0.3, "max_tokens": 600},
    ("orbit-support", "v4"): {"temperature": 0.2, "max_tokens": 800, "top_p": 1.0},
    ("orbit-smalltalk", "v1"): {"temperature": 0.7, "max_tokens": 150},
}
# Latency of failed calls per error type: (low, high) ms.
ERROR_LATENCY = {
    "timeout": (30_000, 30_250),
    "rate_limit": (80, 300),
    "server_error": (400, 3_000),
    "context_length_exceeded": (60, 200),
    "content_filter": (300, 1_000),
}
CHANNELS = ("web", "web", "web", "app", "app")
PLANS = ("basic",) * 6 + ("plus",) * 3 + ("pro",)


class _Slots(dict):
    """Slot values for one event, drawn lazily from 5-bit fields of one random number."""

    __slots__ = ("bits",)

    def __missing__(self, key: str) -> str:
        values = SLOTS[key]
        value = values[((self.bits >> (5 * _SLOT_INDEX[key])) & 31) % len(values)]
        self[key] = value
        return value


def _typo(text: str, r: int) -> str:
    """One realistic slip of the keyboard, chosen by the random number r."""
    n = len(text)
    if n < 6:
        return text
    op, pos = r % 4, (r >> 2) % (n - 3) + 1
    if op == 0:
        return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
    if op == 1:
        return text[:pos] + text[pos + 1 :]
    if op == 2:
        return text[:pos] + text[pos] + text[pos:]
    return text.lower().rstrip("?!.")


def _prompt_key(group: str, new_prompt: bool) -> tuple[str, str]:
    if group == "smalltalk":
        return ("orbit-smalltalk", "v1")
    return (P.PROMPT_NAME, P.PROMPT_NEW if new_prompt else P.PROMPT_OLD)


def _slots(bits: int) -> _Slots:
    slots = _Slots()
    slots.bits = bits
    return slots


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on uint64, so distinct inputs give distinct ids."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _id_ints(values: np.ndarray, salt: int) -> list[int]:
    return _mix64(values.astype(np.uint64) + np.uint64(salt)).tolist()


@dataclass(frozen=True)
class LinesResult:
    embedded: int  # feedback rows inside event lines
    late: int  # separate feedback lines at the end of the file
    vote_kept: np.ndarray  # votes written (a vote due after the end of the data is not)
    judge_kept: np.ndarray  # judged events whose scores were written


class _Fragments:
    """JSON fragments that repeat across lines, encoded once."""

    def __init__(self) -> None:
        self.prompt = {
            k: f'{{"role":"system","content":{enc(t)}}}' for k, t in SYSTEM_PROMPTS.items()
        }
        self.prompt_len = {k: len(t) for k, t in SYSTEM_PROMPTS.items()}
        self.context: dict[tuple[int, int], tuple[str, int]] = {}
        for gi, g in enumerate(ALL_GROUPS):
            for ii, it in enumerate(g.intents):
                if it.kb:
                    text = "Retrieved help-center articles:\n" + it.kb
                    frag = f'{{"role":"system","name":"context","content":{enc(text)}}}'
                    self.context[gi, ii] = (frag, len(text))
        keys = [(P.PROMPT_NAME, P.PROMPT_OLD), (P.PROMPT_NAME, P.PROMPT_NEW)]
        keys.append(("orbit-smalltalk", "v1"))
        self.keys = keys
        self.call = {
            (m, k): (
                f'"name":"{"smalltalk_reply" if k == 2 else "support_reply"}",'
                f'"provider":"{P.PROVIDER}","model":"{MODELS[m][1]}",'
                f'"model_requested":"{MODELS[m][0]}","prompt_name":"{keys[k][0]}",'
                f'"prompt_version":"{keys[k][1]}","input_messages":'
            )
            for m in range(3)
            for k in range(3)
        }
        self.params = [orjson.dumps(PARAMS[k]).decode() for k in keys]
        self.error = [
            f'"status":"error","error_type":"{t}","error_message":{enc(ERRORS[t])}'
            for t in ERROR_TYPES
        ]
        self.tags: dict[tuple, str] = {}

    def tags_for(self, gi: int, ii: int, foreign: bool, user: int) -> str:
        key = (gi, ii, foreign, user % 5, user % 10)
        tags = self.tags.get(key)
        if tags is None:
            g = ALL_GROUPS[gi]
            it = g.intents[ii]
            lang = it.foreign[0] if foreign else "en"
            values = [f"topic:{g.name}", f"intent:{it.name}", f"channel:{CHANNELS[user % 5]}"]
            values += [f"lang:{lang}", f"plan:{PLANS[user % 10]}"]
            tags = self.tags[key] = orjson.dumps(values).decode()
        return tags


def _first_turn(g, it, r: int, foreign: bool) -> tuple[str, str]:
    """(question, answer) opening a session."""
    slots = _slots(r)
    if foreign:
        lang, question = it.foreign
        return question.format_map(slots), FOREIGN_REPLY[lang]
    text = it.questions[r % len(it.questions)].format_map(slots)
    answer = it.answers[(r >> 3) % len(it.answers)].format_map(slots)
    opener = g.openers[(r >> 61) % len(g.openers)]
    closer = CLOSERS[(r >> 5) % len(CLOSERS)]
    if opener:
        answer = opener + " " + answer
    if closer:
        answer = answer + " " + closer
    return text, answer


def write_lines(s: Sample, path: Path) -> LinesResult:
    """Write the log: events in time order, then the late feedback lines in time order."""
    frag = _Fragments()
    ok = ~s.err
    model = np.where(s.group == GROUP_INDEX["smalltalk"], 2, np.where(s.new_model, 1, 0))
    pkey = np.where(model == 2, 2, np.where(s.new_prompt, 1, 0))
    ttft = np.round(np.array([P.LATENCY[m[1]][0] for m in MODELS])[model] * s.ttft_noise, 1)
    ms_per_tok = np.array([P.LATENCY[m[1]][1] for m in MODELS])[model] * s.tok_noise
    lo = np.array([ERROR_LATENCY[t][0] for t in ERROR_TYPES])[s.err_type]
    hi = np.array([ERROR_LATENCY[t][1] for t in ERROR_TYPES])[s.err_type]
    err_latency = np.round(lo + (hi - lo) * s.err_latency, 1)
    usd_in = np.array([P.PRICES[m[1]][0] / 1e6 for m in MODELS])[model]
    usd_out = np.array([P.PRICES[m[1]][1] / 1e6 for m in MODELS])[model]
    last = np.append(s.sess[1:] != s.sess[:-1], True)  # last turn of its session

    salt = (s.seed * 0x9E3779B97F4A7C15) % 2**64
    event_id = _id_ints(np.arange(s.n), salt)
    trace_id = _id_ints(np.arange(s.n), salt ^ 0x5555)
    session_id = _id_ints(s.sess, salt ^ 0xAAAA)
    user_id = _id_ints(s.user, salt ^ 0x3333)
    clock = Clock(s.start_ms)
    fb = FeedbackWriter(s, clock, lambda e: gold_answer(s, e, _slots))
    has_fb = fb.any.tolist()

    order = np.argsort(s.ts, kind="stable")
    cols = zip(
        order.tolist(),
        s.ts[order].tolist(),
        *(
            a[order].tolist()
            for a in (
                s.sess, s.turn, s.group, s.intent, s.foreign, s.user, ok, s.err_type,
                s.text_bits, s.typo, model, pkey, ttft, ms_per_tok, err_latency, usd_in,
                usd_out, last,
            )
        ),
        strict=True,
    )  # fmt: skip
    sessions: dict[int, tuple[list[str], int]] = {}
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        chunk: list[str] = []
        for (
            e, ts, sess, turn, gi, ii, foreign, user, is_ok, etype, r, typo, m, k, t1, mpt,
            elat, p_in, p_out, is_last,
        ) in cols:  # fmt: skip
            g = ALL_GROUPS[gi]
            if turn == 0:
                text, answer = _first_turn(g, g.intents[ii], r, foreign)
                key = frag.keys[k]
                history = [frag.prompt[key]]
                chars = frag.prompt_len[key]
                ctx = frag.context.get((gi, ii))
                if ctx:
                    history.append(ctx[0])
                    chars += ctx[1]
            else:
                history, chars = sessions[sess]
                text = g.followups[r % len(g.followups)]
                answer = g.followup_answers[(r >> 3) % len(g.followup_answers)]
            if typo:
                text = _typo(text, r >> 7)
            text_j = enc(text)
            history.append(f'{{"role":"user","content":{text_j}}}')
            chars += len(text)
            tok_in = chars // 4 + 4 * len(history) + 3
            messages = "[" + ",".join(history) + "]"
            if is_ok:
                answer_j = enc(answer)
                tok_out = len(answer) // 4 + 1
                latency = round(t1 + mpt * tok_out, 1)
                cost = round(tok_in * p_in + tok_out * p_out, 8)
                body = (
                    f'"output_messages":[{{"role":"assistant","content":{answer_j}}}],'
                    f'"input_text":{text_j},"output_text":{answer_j},"params":{frag.params[k]},'
                    f'"tokens_in":{tok_in},"tokens_out":{tok_out},"cost_usd":{cost},'
                    f'"latency_ms":{latency},"ttft_ms":{t1},'
                    '"status":"ok","error_type":null,"error_message":null'
                )
                history.append(f'{{"role":"assistant","content":{answer_j}}}')
                chars += len(answer)
            else:
                latency = elat
                # No output, token counts or TTFT: the keys are left out rather than null,
                # as ingest/native_event.schema.json does not allow null for them.
                body = (
                    f'"input_text":{text_j},"output_text":null,"params":{frag.params[k]},'
                    f'"cost_usd":0.0,"latency_ms":{latency},{frag.error[etype]}'
                )
            if is_last:
                sessions.pop(sess, None)
            else:
                sessions[sess] = (history, chars)
            end_ms = ts + int(latency) + 1
            eid = f"evt_{event_id[e]:016x}"
            uid = f"usr_{user_id[e]:016x}"
            feedback = fb.event(e, end_ms, eid, uid) if has_fb[e] else "[]"
            chunk.append(
                f'{{"event_id":"{eid}","trace_id":"trc_{trace_id[e]:016x}",'
                f'"ts":"{clock(ts)}","ts_end":"{clock(end_ms)}","kind":"llm",{frag.call[m, k]}'
                f"{messages},{body},"
                f'"user_id":"{uid}","session_id":"ses_{session_id[e]:016x}",'
                f'"tags":{frag.tags_for(gi, ii, foreign, user)},"environment":"production",'
                f'"feedback":{feedback}}}\n'
            )
            if len(chunk) >= 10_000:
                fh.write("".join(chunk))
                chunk.clear()
        fh.write("".join(chunk))
        fb.late.sort(key=lambda pair: pair[0])
        fh.write("".join(line + "\n" for _, line in fb.late))
    return LinesResult(fb.embedded, len(fb.late), fb.vote_kept, fb.judge_kept)

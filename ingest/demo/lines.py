"""Turn the demo's random columns (ingest/demo/sample.py) into native JSONL lines, streaming.

Texts need a Python loop (slots, typos, the history of multi-turn sessions), so events are
walked in time order, in blocks: first the block's texts (keeping the history of open sessions
only), then its numbers on whole columns (latency from the answer's length, cost, timestamps),
then its lines, written in small chunks, so memory stays flat at 1M events. Each repeated JSON
fragment (a system prompt, a help article) is encoded once; all output is ASCII. The late
feedback lines follow the events, sorted by their time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as enc  # C; ASCII-only output
from pathlib import Path
from typing import Any

import numpy as np

from ingest.demo import plan as P
from ingest.demo.feedback import REVIEWERS, Clock, FeedbackWriter, gold_answer
from ingest.demo.review import Review, draw_review, model_column
from ingest.demo.sample import ERROR_TYPES, Sample
from ingest.demo.text import (
    ALL_GROUPS,
    CLOSERS,
    CONTEXTS,
    ERRORS,
    FOREIGN_REPLY,
    PREFIXES,
    SLOT_NAMES,
    SLOTS,
    SUFFIXES,
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


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


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


@dataclass(frozen=True)
class LinesResult:
    embedded: int  # feedback rows inside event lines
    late: int  # separate feedback lines at the end of the file
    vote_kept: np.ndarray  # votes written (a vote due after the end of the data is not)
    judge_kept: np.ndarray  # judged events whose scores were written
    negative_kept: np.ndarray  # events with a negative signal written (docs/schema.md)
    review: Review  # the judge's verdicts and the reviewers' labels (ingest/demo/review.py)
    labels_kept: np.ndarray  # (n, 2): reviewer labels written
    review_items: list[tuple[str, int]]  # the review queue: (event id, reviewers) by event time


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
        self.params = [_dumps(PARAMS[k]) for k in keys]
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
            tags = self.tags[key] = _dumps(values)
        return tags


def _first_turn(g, it, r: int, style: int, foreign: bool) -> tuple[str, str]:
    """(question, answer) opening a session; r picks slot values, style the wording."""
    slots = _slots(r)
    if foreign:
        lang, question = it.foreign
        return question.format_map(slots), FOREIGN_REPLY[lang]
    text = it.questions[style % len(it.questions)].format_map(slots)
    if g.name != "smalltalk":  # "hi, hello" is not a greeting we want to generate
        context = CONTEXTS[(style >> 24) % len(CONTEXTS)]
        if context:
            text = context.format_map(slots) + text[0].lower() + text[1:]
        prefix = PREFIXES[(style >> 16) % len(PREFIXES)]
        if prefix:
            text = prefix + text[0].lower() + text[1:]
        text += SUFFIXES[(style >> 32) % len(SUFFIXES)]
    answer = it.answers[(style >> 4) % len(it.answers)].format_map(slots)
    opener = g.openers[(style >> 8) % len(g.openers)]
    closer = CLOSERS[(style >> 12) % len(CLOSERS)]
    if opener:
        answer = opener + " " + answer
    if closer:
        answer = answer + " " + closer
    return text, answer


BLOCK = 20_000  # events per block: texts, then numbers on whole columns, then lines


def _block_texts(
    s: Sample, idx: np.ndarray, frag: _Fragments, pkey: np.ndarray, sessions: dict
) -> tuple[list[str], list[str], list[str | None], np.ndarray, np.ndarray]:
    """Input messages (JSON), user text (JSON), answer (JSON or None) and token counts.

    `sessions` carries the history of sessions still open at the end of the block.
    """
    n = len(idx)
    messages: list[str] = [""] * n
    user_j: list[str] = [""] * n
    answer_j: list[str | None] = [None] * n
    tok_in = np.zeros(n, dtype=np.int64)
    tok_out = np.zeros(n, dtype=np.int64)
    cols = (
        s.sess[idx], s.turn[idx], s.group[idx], s.intent[idx], s.foreign[idx], ~s.err[idx],
        s.text_bits[idx], s.style_bits[idx], s.typo[idx], pkey[idx], s.last[idx],
    )  # fmt: skip
    rows = zip(*(c.tolist() for c in cols), strict=True)
    for j, (sess, turn, gi, ii, foreign, ok, r, style, typo, k, last) in enumerate(rows):
        g = ALL_GROUPS[gi]
        if turn == 0:
            text, answer = _first_turn(g, g.intents[ii], r, style, foreign)
            key = frag.keys[k]
            history = [frag.prompt[key]]
            chars = frag.prompt_len[key]
            ctx = frag.context.get((gi, ii))
            if ctx:
                history.append(ctx[0])
                chars += ctx[1]
        else:
            history, chars = sessions[sess]
            text = g.followups[style % len(g.followups)]
            answer = g.followup_answers[(style >> 4) % len(g.followup_answers)]
        if typo:
            text = _typo(text, style >> 40)
        text_j = enc(text)
        history.append(f'{{"role":"user","content":{text_j}}}')
        chars += len(text)
        tok_in[j] = chars // 4 + 4 * len(history) + 3
        messages[j] = "[" + ",".join(history) + "]"
        user_j[j] = text_j
        if ok:
            a_j = answer_j[j] = enc(answer)
            tok_out[j] = len(answer) // 4 + 1
            history.append(f'{{"role":"assistant","content":{a_j}}}')
            chars += len(answer)
        if last:
            sessions.pop(sess, None)
        else:
            sessions[sess] = (history, chars)
    return messages, user_j, answer_j, tok_in, tok_out


def write_lines(s: Sample, path: Path) -> LinesResult:
    """Write the log: events in time order, then the late feedback lines in time order."""
    frag = _Fragments()
    ok = ~s.err
    model = model_column(s)
    pkey = np.where(model == 2, 2, np.where(s.new_prompt, 1, 0))
    ttft = np.round(np.array([P.LATENCY[m[1]][0] for m in MODELS])[model] * s.ttft_noise, 1)
    ms_per_tok = np.array([P.LATENCY[m[1]][1] for m in MODELS])[model] * s.tok_noise
    lo = np.array([ERROR_LATENCY[t][0] for t in ERROR_TYPES])[s.err_type]
    hi = np.array([ERROR_LATENCY[t][1] for t in ERROR_TYPES])[s.err_type]
    err_latency = np.round(lo + (hi - lo) * s.err_latency, 1)
    usd_in = np.array([P.PRICES[m[1]][0] / 1e6 for m in MODELS])[model]
    usd_out = np.array([P.PRICES[m[1]][1] / 1e6 for m in MODELS])[model]

    salt = (s.seed * 0x9E3779B97F4A7C15) % 2**64
    event_id = _mix64(np.arange(s.n, dtype=np.uint64) + np.uint64(salt))
    trace_id = _mix64(np.arange(s.n, dtype=np.uint64) + np.uint64(salt ^ 0x5555))
    session_id = _mix64(s.sess.astype(np.uint64) + np.uint64(salt ^ 0xAAAA))
    user_id = _mix64(s.user.astype(np.uint64) + np.uint64(salt ^ 0x3333))
    clock = Clock(s.start_ms)
    rv = draw_review(s, len(REVIEWERS))
    fb = FeedbackWriter(s, clock, lambda e: gold_answer(s, e, _slots), rv)
    status_ok = '"status":"ok","error_type":null,"error_message":null'

    order = np.argsort(s.ts, kind="stable")
    sessions: dict[int, tuple[list[str], int]] = {}
    with path.open("wb") as fh:
        for start in range(0, s.n, BLOCK):
            idx = order[start : start + BLOCK]
            messages, user_j, answer_j, tok_in, tok_out = _block_texts(s, idx, frag, pkey, sessions)
            is_ok = ok[idx]
            latency = np.where(
                is_ok, np.round(ttft[idx] + ms_per_tok[idx] * tok_out, 1), err_latency[idx]
            )
            cost = np.where(is_ok, np.round(tok_in * usd_in[idx] + tok_out * usd_out[idx], 8), 0.0)
            end_ms = s.ts[idx] + latency.astype(np.int64) + 1
            cols = (
                idx, _iso(s.ts[idx], s.start_ms), _iso(end_ms, s.start_ms), end_ms, is_ok,
                latency, cost, tok_in, tok_out, ttft[idx], model[idx], pkey[idx],
                s.err_type[idx], s.group[idx], s.intent[idx], s.foreign[idx], s.user[idx],
                event_id[idx], trace_id[idx], session_id[idx], user_id[idx], fb.any[idx],
            )  # fmt: skip
            rows = zip(
                *(c if isinstance(c, list) else c.tolist() for c in cols),
                messages, user_j, answer_j, strict=True,
            )  # fmt: skip
            lines = []
            for (
                e, ts, ts_end, e_ms, good_call, lat, usd, t_in, t_out, t1, m, k, etype, gi, ii,
                foreign, user, eid_i, tid_i, sid_i, uid_i, has_fb, msgs, text_j, a_j,
            ) in rows:  # fmt: skip
                eid = f"evt_{eid_i:016x}"
                uid = f"usr_{uid_i:016x}"
                if good_call:
                    body = (
                        f'"output_messages":[{{"role":"assistant","content":{a_j}}}],'
                        f'"input_text":{text_j},"output_text":{a_j},"params":{frag.params[k]},'
                        f'"tokens_in":{t_in},"tokens_out":{t_out},"cost_usd":{usd},'
                        f'"latency_ms":{lat},"ttft_ms":{t1},{status_ok}'
                    )
                else:
                    # No output, token counts or TTFT: the keys are left out rather than null,
                    # as ingest/load/native_event.schema.json does not allow null for them.
                    body = (
                        f'"input_text":{text_j},"output_text":null,"params":{frag.params[k]},'
                        f'"cost_usd":0.0,"latency_ms":{lat},{frag.error[etype]}'
                    )
                feedback = fb.event(e, e_ms, eid, uid) if has_fb else "[]"
                lines.append(
                    f'{{"event_id":"{eid}","trace_id":"trc_{tid_i:016x}",'
                    f'"ts":"{ts}Z","ts_end":"{ts_end}Z","kind":"llm",{frag.call[m, k]}'
                    f"{msgs},{body},"
                    f'"user_id":"{uid}","session_id":"ses_{sid_i:016x}",'
                    f'"tags":{frag.tags_for(gi, ii, foreign, user)},"environment":"production",'
                    f'"feedback":{feedback}}}\n'
                )
            for i in range(0, len(lines), 2000):  # small writes: no huge temporary strings
                fh.write("".join(lines[i : i + 2000]).encode())
        fb.late.sort(key=lambda pair: pair[0])
        fh.write("".join(line + "\n" for _, line in fb.late).encode())
    items = [(eid, needed) for _, eid, needed in sorted(fb.review_items)]
    return LinesResult(fb.embedded, len(fb.late), fb.vote_kept, fb.judge_kept, fb.negative_kept,
                       rv, fb.labels_kept, items)  # fmt: skip


def _iso(ms: np.ndarray, start_ms: int) -> list[str]:
    """Relative milliseconds → ISO-8601 UTC strings (without the Z), on a whole column."""
    stamps = (ms + start_ms).astype("datetime64[ms]")
    return np.datetime_as_string(stamps, unit="ms").tolist()

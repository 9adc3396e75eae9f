"""Feedback rows of one demo event: votes, actions, corrections, judge scores, the pass/fail
judge's verdict, a code check, and the simulated reviewers' labels.

Which rows exist and their values were drawn in ingest/demo/sample.py; this module only dates them
(relative to the event's end), drops those due after the end of the data (they have not arrived
yet), and encodes them, either embedded in the event line or as late `{"type": "feedback"}`
lines. Names follow the conventions of docs/schema.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as enc  # C; ASCII-only output
from typing import Any

import numpy as np

from ingest.demo import plan as P
from ingest.demo.review import Review, failure_tags
from ingest.demo.sample import Sample
from ingest.demo.text import (
    ALL_GROUPS,
    CORRECTION_NOTES,
    FOREIGN_REPLY,
    JUDGE_BAD,
    JUDGE_GOOD,
)

REVIEWERS = ("maria.k", "tom.r", "ana.s", "li.w")
CODE_CHECK = ("links_valid", "check:links_valid@1")
_MINUTES = [f"{m:02d}:" for m in range(60)]
_SECONDS = [f"{ms // 1000:02d}.{ms % 1000:03d}Z" for ms in range(60_000)]


class Clock:
    """Relative milliseconds → ISO-8601 UTC with a Z, from cached pieces (it runs per line)."""

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self._prefix: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        hour, rest = divmod(ms + self.start_ms, 3_600_000)
        prefix = self._prefix.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%dT%H:")
            self._prefix[hour] = prefix
        minute, rest = divmod(rest, 60_000)
        return prefix + _MINUTES[minute] + _SECONDS[rest]


def _text(value: str | None) -> str:
    return "null" if value is None else enc(value)


def _row(fid, name, kind, value, source, author, ts, comment=None, correction=None, label=None):
    """One feedback object as JSON, keys in the order of the feedback table."""
    return (
        f'{{"feedback_id":"{fid}","name":"{name}","kind":"{kind}","value":{value!r},'
        f'"label":{_text(label)},"source":"{source}","comment":{_text(comment)},'
        f'"correction":{_text(correction)},"author":{enc(author)},"ts":"{ts}"}}'
    )


def _extra(row: str, **keys: Any) -> str:
    """A feedback object with the evaluator/review keys (docs/native-format.md) appended."""
    parts = []
    for key, value in keys.items():
        if isinstance(value, str):
            parts.append(f'"{key}":{enc(value)}')
        elif isinstance(value, list):
            parts.append(f'"{key}":[' + ",".join(enc(v) for v in value) + "]")
        else:
            parts.append(f'"{key}":{value!r}')
    return row[:-1] + "," + ",".join(parts) + "}"


class FeedbackWriter:
    """Builds the feedback of one event at a time; records which votes and scores were written."""

    def __init__(self, s: Sample, clock: Clock, gold: Any, rv: Review) -> None:
        self.s = s
        self.rv = rv
        self.labels_kept = np.zeros((s.n, 2), dtype=bool)
        self.review_items: list[tuple[int, str, int]] = []  # (event ts, event id, reviewers)
        self.clock = clock
        self.gold = gold  # gold(e) -> the corrected answer text for event e
        self.horizon = int(s.cal.end.timestamp() * 1000) - s.start_ms
        self.any = s.vote | s.copied | s.regen | s.edited | s.correction | s.judged
        self.vote_kept = np.zeros(s.n, dtype=bool)
        self.judge_kept = np.zeros(s.n, dtype=bool)
        self.negative_kept = np.zeros(s.n, dtype=bool)  # a down vote, regeneration or heavy edit
        self.embedded = 0
        self.late: list[tuple[str, str]] = []  # (ts, JSON line), sorted before writing

    def event(self, e: int, end_ms: int, eid: str, uid: str) -> str:
        """The embedded feedback array (JSON) of event e; late rows go to self.late."""
        s, horizon, clock = self.s, self.horizon, self.clock
        delay = s.delay_ms[e]
        fid = "fb_" + eid[4:] + "_"
        rows: list[str] = []
        later: list[tuple[str, str]] = []  # (ts, JSON object)
        if s.vote[e] and end_ms + delay[0] < horizon:
            value = 1.0 if s.good[e] else 0.0
            rows.append(_row(fid + "thumbs", "thumbs", "vote", value, "user", uid,
                             clock(end_ms + int(delay[0]))))  # fmt: skip
            self.vote_kept[e] = True
            if not value:
                self.negative_kept[e] = True
        if s.copied[e] and end_ms + delay[1] < horizon:
            rows.append(_row(fid + "copied", "copied", "action", 1.0, "user", uid,
                             clock(end_ms + int(delay[1]))))  # fmt: skip
        if s.regen[e] and end_ms + delay[2] < horizon:
            self.negative_kept[e] = True
            rows.append(_row(fid + "regen", "regenerated", "action", 1.0, "user", uid,
                             clock(end_ms + int(delay[2]))))  # fmt: skip
        if s.edited[e] and end_ms + delay[3] < horizon:
            value = round(float(s.edit_value[e]), 3)
            if value >= 0.5:
                self.negative_kept[e] = True
            rows.append(_row(fid + "edited", "edited", "action", value, "user", uid,
                             clock(end_ms + int(delay[3]))))  # fmt: skip
        if s.correction[e]:
            by_reviewer = bool(s.reviewer[e])
            at = end_ms + int(delay[5] if by_reviewer else delay[4])
            if at < horizon:
                r = int(s.style_bits[e]) >> 44  # bits the wording of the event does not use
                value = round(float(s.correction_value[e]), 3)
                if by_reviewer:
                    note = CORRECTION_NOTES[(r >> 4) % len(CORRECTION_NOTES)]
                    ts = clock(at)
                    later.append((ts, _row(fid + "corr", "correction", "correction", value,
                                           "reviewer", REVIEWERS[r % len(REVIEWERS)], ts,
                                           comment=note, correction=self.gold(e))))  # fmt: skip
                else:
                    rows.append(_row(fid + "corr", "correction", "correction", value, "user",
                                     uid, clock(at), correction=self.gold(e)))  # fmt: skip
        if s.judged[e] and s.judge_ms[e] < horizon:
            self.judge_kept[e] = True
            scores = self._judge(e, fid)
            if s.judge_late[e]:
                later.extend((scores[1], row) for row in scores[0])
            else:
                rows.extend(scores[0])
            if self.rv.reviewed[e]:
                later.extend(self._labels(e, fid, eid))
        self.embedded += len(rows)
        head = '{"type":"feedback","event_id":"' + eid + '",'
        for ts, row in later:
            self.late.append((ts, head + row[1:]))
        return "[" + ",".join(rows) + "]"

    def _judge(self, e: int, fid: str) -> tuple[list[str], str]:
        """The judge's two scores and the code check, and the time of the nightly run."""
        s = self.s
        g = ALL_GROUPS[s.group[e]]
        intent = g.intents[s.intent[e]].name.replace("_", " ")
        r = int(s.style_bits[e]) >> 44
        at = self.clock(int(s.judge_ms[e]))
        out = []
        for crit, score, shift in (
            ("helpfulness", s.helpfulness[e], 8),
            ("correctness", s.correctness[e], 12),
        ):
            score = round(float(score), 3)
            pool = JUDGE_GOOD if score >= 0.5 else JUDGE_BAD
            why = pool[(r >> shift) % len(pool)].format(intent=intent, topic=g.name)
            out.append(_row(fid + crit, crit, "score", score, "llm_judge", P.JUDGE_MODEL, at,
                            comment=why))  # fmt: skip
        passed = bool(self.rv.verdict_pass[e])
        pool = JUDGE_GOOD if passed else JUDGE_BAD
        why = pool[(r >> 16) % len(pool)].format(intent=intent, topic=g.name)
        out.append(_extra(
            _row(fid + "verdict", P.VERDICT_NAME, "score", 1.0 if passed else 0.0, "llm_judge",
                 P.JUDGE_MODEL, at, comment=why, label="pass" if passed else "fail"),
            evaluator_version=P.VERDICT_VERSION, judge_model=P.JUDGE_MODEL,
            cost_usd=float(self.rv.verdict_cost[e]),
        ))  # fmt: skip
        value = 1.0 if s.check_pass[e] else 0.0
        label = "pass" if value else "fail"
        out.append(_row(fid + "links", CODE_CHECK[0], "score", value, "code", CODE_CHECK[1], at,
                        label=label))  # fmt: skip
        return out, at

    def _labels(self, e: int, fid: str, eid: str) -> list[tuple[str, str]]:
        """The reviewers' labels of a reviewed event (late lines), those already given."""
        rv = self.rv
        needed = 2 if rv.double[e] else 1
        self.review_items.append((int(self.s.ts[e]), eid, needed))
        out = []
        for k in range(needed):
            at = int(rv.review_ms[e, k])
            if at >= self.horizon:
                continue
            self.labels_kept[e, k] = True
            passed = bool(rv.label_pass[e, k])
            ts = self.clock(at)
            tags = [] if passed else failure_tags(int(rv.tag_bits[e, k]))
            row = _row(fid + f"review{k + 1}", P.VERDICT_NAME, "label", 1.0 if passed else 0.0,
                       "reviewer", REVIEWERS[int(rv.reviewer[e, k])], ts,
                       label="pass" if passed else "fail")  # fmt: skip
            out.append((ts, _extra(row, queue_id=P.REVIEW_QUEUE_ID, tags=tags)))
        return out


def gold_answer(s: Sample, e: int, slots_for: Any) -> str:
    """The answer a reviewer would have written: the intent's reference answer."""
    g = ALL_GROUPS[s.group[e]]
    it = g.intents[s.intent[e]]
    if s.turn[e] > 0:
        return g.followup_answers[0]
    if s.foreign[e]:
        return FOREIGN_REPLY[it.foreign[0]]
    return it.answers[0].format_map(slots_for(int(s.text_bits[e])))

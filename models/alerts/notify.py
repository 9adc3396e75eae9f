"""A check run as text, as the documented JSON object, and as a webhook post.

The webhook gets Slack-compatible JSON (`{"text": ..., "blocks": [...]}`, which Slack, Mattermost
and Teams' Slack-compatible hooks take) or the plain JSON object of `--json`. It is posted with
urllib and a timeout; a failure is returned, never raised, so the alerts are still printed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from models.alerts.checks import CheckResult, CheckRun

FORMAT_VERSION = "reviewdeck-check/1"
WEBHOOK_FORMATS = ("slack", "json")


def _fmt(r: CheckResult, v: float | None) -> str:
    if v is None:
        return "–"
    if r.check in ("cost_total", "cost_per_event") or r.key == "cost":
        # Per-event costs are fractions of a cent: four significant figures, not four decimals
        # (which printed "$0.0002 (before $0.0002)" for a 7% rise).
        return f"${v:,.2f}" if abs(v) >= 100 else f"${v:.4g}"
    if r.check == "new_topic":
        return f"{v:.0f}"
    if r.key == "latency":
        return f"{v:,.0f} ms"
    return f"{v:.1%}"


def _p(v: float | None) -> str:
    return "–" if v is None else f"{v:.2g}"


def line(r: CheckResult) -> str:
    """One check as one line: mark, what, figures, n, p and q."""
    mark = {"fired": "ALERT", "ok": "ok   ", "skipped": "skip "}[r.status]
    ref = "threshold" if r.check in ("error_rate", "cost_total", "cost_per_event") else "before"
    if r.check == "new_topic":
        ref = "expected"
    parts = [f"{mark} {r.label}: {_fmt(r, r.value)} ({ref} {_fmt(r, r.reference)})"]
    if r.n is not None:
        parts.append(f"n={r.n}" + (f" vs {r.n_reference}" if r.n_reference is not None else ""))
    if r.p_value is not None:
        parts.append(f"p={_p(r.p_value)} q={_p(r.q_value)} ({r.test})")
    if r.detail:
        parts.append(r.detail)
    return " · ".join(parts)


def render_text(run: CheckRun) -> str:
    p = run.period
    head = f"reviewdeck check {p.label} against {p.previous_label}"
    if p.partial:
        head += f" ({p.partial})"
    lines = [head, f"config: {run.config}; family of {run.n_tests} tests, Benjamini–Hochberg "
             f"at {run.alpha:g}"]
    lines += [line(r) for r in run.results]
    fired = run.fired
    lines.append(f"{len(fired)} alert(s) fired" if fired else "no alert")
    return "\n".join(lines)


def _result_json(r: CheckResult) -> dict[str, Any]:
    return {
        "check": r.check, "key": r.key, "label": r.label, "status": r.status,
        "fired": r.fired, "n": r.n, "n_reference": r.n_reference, "value": r.value,
        "reference": r.reference, "delta": r.delta, "p_value": r.p_value,
        "q_value": r.q_value, "test": r.test, "detail": r.detail, "link": r.link,
    }


def to_json(run: CheckRun) -> dict[str, Any]:
    """The documented object of `reviewdeck check --json` (docs/alerts.md)."""
    p = run.period
    return {
        "format": FORMAT_VERSION,
        "period": {"kind": p.kind, "label": p.label, "start": p.start.isoformat(),
                   "end": p.end.isoformat(), "previous": p.previous_label,
                   "partial": p.partial},
        "config": run.config,
        "family": {"method": "benjamini-hochberg", "alpha": run.alpha, "n_tests": run.n_tests},
        "fired": bool(run.fired),
        "n_fired": len(run.fired),
        "checks": [_result_json(r) for r in run.results],
        "links": {"weekly": f"{run.base_url}/weekly?week={p.start.isocalendar()[0]}-W"
                            f"{p.start.isocalendar()[1]:02d}"},
    }


def slack_payload(run: CheckRun) -> dict[str, Any]:
    """Slack-compatible JSON: a `text` fallback and section blocks, one per fired check."""
    p = run.period
    fired = run.fired
    weekly = to_json(run)["links"]["weekly"]
    title = (f"reviewdeck: {len(fired)} alert(s) for {p.label}" if fired
             else f"reviewdeck: no alert for {p.label}")
    lines = [f"• {line(r)} <{r.link}|open>" if r.link else f"• {line(r)}" for r in fired]
    text = "\n".join([title, *lines, f"Weekly pack: {weekly}"])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for r in fired:
        body = line(r) + (f"\n<{r.link}|Open in reviewdeck>" if r.link else "")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{run.n_tests} tests, BH at {run.alpha:g} · <{weekly}|"
                                   "weekly pack>"}]})
    return {"text": text, "blocks": blocks}


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status: int | None
    error: str


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> WebhookResult:
    """POST the payload as JSON; any failure (refused, timeout, non-2xx) is returned."""
    if not url.startswith(("http://", "https://")):
        return WebhookResult(False, None, "the webhook URL must start with http:// or https://")
    body = json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "reviewdeck-check"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only)
            return WebhookResult(True, resp.status, "")
    except urllib.error.HTTPError as exc:
        return WebhookResult(False, exc.code, f"webhook answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return WebhookResult(False, None, f"webhook not reached: {reason}")

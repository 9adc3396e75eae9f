"""alerts.toml: which checks run and with what thresholds, validated before anything is read.

Every key has a default, so `reviewdeck check` with no config runs the headline, new-topic and
evaluator checks at a 5% false-discovery rate and no threshold checks (a threshold is a team's
own number). A mistake names the file, the check (table) and what is wrong.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import ReviewdeckError


class AlertConfigError(ReviewdeckError):
    """alerts.toml cannot be read or holds a wrong value."""


@dataclass(frozen=True)
class HeadlineCheck:
    enabled: bool = True
    metrics: tuple[str, ...] = ()  # () = every headline metric with a better direction
    min_n: int = 30
    min_change: float = 0.05  # a significant change smaller than this share of the previous
    # value does not fire (0 = any significant change)


@dataclass(frozen=True)
class NewTopicCheck:
    enabled: bool = True
    reference_weeks: int = 4
    min_events: int = 1  # fire only for a topic with at least this many flagged events


@dataclass(frozen=True)
class EvaluatorCheck:
    enabled: bool = True
    names: tuple[str, ...] = ()  # () = every evaluator (its latest version)
    min_n: int = 30


@dataclass(frozen=True)
class Thresholds:
    error_rate: float | None = None  # fire when the error rate is over it (binomial test)
    min_n: int = 30
    cost_total_usd: float | None = None  # fire when the period's total cost is over it
    cost_per_event_usd: float | None = None  # fire when the mean cost per event is over it


@dataclass(frozen=True)
class AlertConfig:
    alpha: float = 0.05  # the family's false-discovery rate (Benjamini–Hochberg)
    headline: HeadlineCheck = field(default_factory=HeadlineCheck)
    new_topic: NewTopicCheck = field(default_factory=NewTopicCheck)
    evaluators: EvaluatorCheck = field(default_factory=EvaluatorCheck)
    thresholds: Thresholds = field(default_factory=Thresholds)
    source: str = "(defaults)"


_TABLES = {"headline": HeadlineCheck, "new_topic": NewTopicCheck,
           "evaluators": EvaluatorCheck, "thresholds": Thresholds}


def _bad(path: str, check: str, what: str) -> AlertConfigError:
    return AlertConfigError(f"{path}: [{check}] {what}")


def _value(path: str, check: str, key: str, value: object, default: object) -> object:
    """One value checked against the type of its default (None defaults take a number)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _bad(path, check, f"{key} = {value!r} must be true or false")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad(path, check, f"{key} = {value!r} must be a whole number >= 1")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(path, check, f"{key} = {value!r} must be a list of names")
        return tuple(value)
    # thresholds: a number >= 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _bad(path, check, f"{key} = {value!r} must be a number >= 0")
    if key == "error_rate" and value > 1:
        raise _bad(path, check, f"error_rate = {value!r} is a share: give it between 0 and 1")
    return float(value)


def parse_config(data: dict, path: str = "alerts.toml") -> AlertConfig:
    """An AlertConfig from parsed TOML; unknown tables or keys are errors, not ignored."""
    from models.trends import core as trends

    out: dict[str, object] = {}
    for name, value in data.items():
        if name == "alpha":
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0 < value < 1:
                raise _bad(path, "alpha", f"alpha = {value!r} must be between 0 and 1")
            out["alpha"] = float(value)
            continue
        cls = _TABLES.get(name)
        if cls is None:
            raise _bad(path, name, f"unknown check; known: alpha, {', '.join(_TABLES)}")
        if not isinstance(value, dict):
            raise _bad(path, name, "must be a table ([" + name + "])")
        defaults = cls()
        kwargs: dict[str, object] = {}
        for key, item in value.items():
            if not hasattr(defaults, key):
                known = ", ".join(cls.__dataclass_fields__)
                raise _bad(path, name, f"unknown key {key!r}; known: {known}")
            kwargs[key] = _value(path, name, key, item, getattr(defaults, key))
        out[name] = cls(**kwargs)
    headline = out.get("headline")
    if isinstance(headline, HeadlineCheck):
        for key in headline.metrics:
            try:
                m = trends.metric(key)
            except (KeyError, ValueError):
                raise _bad(path, "headline", f"unknown metric {key!r}; known: "
                           f"{', '.join(k for k, m in trends.METRICS.items() if m.better)}, "
                           "score:<source>:<name>") from None
            if m.better is None:
                raise _bad(path, "headline", f"metric {key!r} has no better direction, so it "
                           "cannot get worse")
    return AlertConfig(**out, source=path)  # type: ignore[arg-type]


def load_config(path: Path | None) -> AlertConfig:
    """The config at `path`, or the defaults when `path` is None."""
    if path is None:
        return AlertConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AlertConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))

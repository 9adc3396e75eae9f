"""Cost of an LLM call from a price table shipped as data (ingest/prices.csv).

Most sources log tokens but not cost, so the loader computes cost from this table and marks it
`cost_source='computed'`. Prices change: the table records the date each row was checked, and
users extend or override it with their own CSV of the same columns, named by the
REVIEWDECK_PRICES environment variable (or passed as `extra`); their rows win over ours.

Matching: the exact model name first, then the name with its snapshot suffix removed
(`gpt-4o-2024-08-06` → `gpt-4o`, `gpt-4-0613` → `gpt-4`, `claude-3-5-sonnet-20241022` →
`claude-3-5-sonnet`), so a snapshot priced differently from its family can have its own row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ingest.errors import ConfigError

PRICES_ENV = "REVIEWDECK_PRICES"
COLUMNS = ("model", "input_per_1m", "cached_input_per_1m", "output_per_1m", "checked")

# Snapshot suffixes providers append to a family name: ISO dates, compact dates, MMDD, -latest,
# and numbered versions such as Gemini's -001.
_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}|latest)$")


@dataclass(frozen=True)
class Price:
    model: str
    input_per_1m: float
    cached_input_per_1m: float | None  # None: cached tokens are billed as ordinary input
    output_per_1m: float
    checked: str  # ISO date the price was read from the provider's price page


def _parse(text: str, origin: str) -> dict[str, Price]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{origin}: price file lacks columns {missing}; expected {list(COLUMNS)}")
    table: dict[str, Price] = {}
    for line_no, row in enumerate(reader, start=2):
        try:
            cached = (row["cached_input_per_1m"] or "").strip()
            price = Price(
                model=row["model"].strip().lower(),
                input_per_1m=float(row["input_per_1m"]),
                cached_input_per_1m=float(cached) if cached else None,
                output_per_1m=float(row["output_per_1m"]),
                checked=(row["checked"] or "").strip(),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{origin}:{line_no}: bad price row {row!r}: {exc}") from exc
        table[price.model] = price
    return table


@lru_cache(maxsize=8)
def _load(extra: str | None, mtime: float | None) -> dict[str, Price]:
    shipped = resources.files("ingest").joinpath("prices.csv").read_text(encoding="utf-8")
    table = _parse(shipped, "ingest/prices.csv")
    if extra:
        try:
            text = Path(extra).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"price file {extra}: cannot read it ({exc})") from exc
        table.update(_parse(text, extra))
    return table


def price_table(extra: str | os.PathLike[str] | None = None) -> dict[str, Price]:
    """The shipped table, extended/overridden by `extra` or else by $REVIEWDECK_PRICES."""
    path = str(extra) if extra else (os.environ.get(PRICES_ENV) or None)
    mtime = None
    if path:
        try:
            mtime = Path(path).stat().st_mtime
        except OSError as exc:
            raise ConfigError(f"{PRICES_ENV}={path!r}: cannot read the price file ({exc})") from exc
    return _load(path, mtime)


def find_price(model: str | None, table: dict[str, Price] | None = None) -> Price | None:
    """The price row for a model name or its family, or None if the model is unknown."""
    if not model:
        return None
    prices = price_table() if table is None else table
    return _lookup(model, id(prices), prices)


@lru_cache(maxsize=4096)
def _lookup_cached(model: str, table_id: int) -> Price | None:
    return _match(model, _TABLES[table_id])


_TABLES: dict[int, dict[str, Price]] = {}


def _lookup(model: str, table_id: int, prices: dict[str, Price]) -> Price | None:
    # Big files repeat a handful of model names: cache the suffix matching per loaded table.
    if _TABLES.get(table_id) is not prices:
        if len(_TABLES) > 16:
            _TABLES.clear()
            _lookup_cached.cache_clear()
        _TABLES[table_id] = prices
    return _lookup_cached(model, table_id)


def _match(model: str, prices: dict[str, Price]) -> Price | None:
    name = model.strip().lower()
    if "/" in name:  # "openai/gpt-4o", "models/gemini-2.0-flash"
        name = name.rsplit("/", 1)[1]
    while True:
        hit = prices.get(name)
        if hit is not None:
            return hit
        shorter = _SUFFIX.sub("", name)
        if shorter == name:
            return None
        name = shorter


def compute_cost(
    model: str,
    tokens_in: int | None,
    tokens_out: int | None,
    tokens_cache_read: int | None = None,
    *,
    table: dict[str, Price] | None = None,
) -> float | None:
    """Cost in USD, or None when the model is unknown or no token count is given.

    tokens_in includes cached tokens (OpenAI/OTel convention); the cached share is billed at the
    cached-input price when the table has one.
    """
    if tokens_in is None and tokens_out is None:
        return None
    price = find_price(model, table)
    if price is None:
        return None
    t_in = max(int(tokens_in or 0), 0)
    cached = min(max(int(tokens_cache_read or 0), 0), t_in)
    cached_rate = price.cached_input_per_1m
    if cached_rate is None:
        cached_rate = price.input_per_1m
    dollars = (
        (t_in - cached) * price.input_per_1m
        + cached * cached_rate
        + max(int(tokens_out or 0), 0) * price.output_per_1m
    )
    return dollars / 1_000_000

"""Price table: snapshot → family matching, cached-input billing, user overrides."""

from __future__ import annotations

import pytest

from ingest.errors import ConfigError
from ingest.prices import PRICES_ENV, compute_cost, find_price, price_table


def test_snapshot_matches_family():
    assert find_price("gpt-4o-2024-08-06").model == "gpt-4o"
    assert find_price("gpt-4o-mini-2024-07-18").model == "gpt-4o-mini"
    assert find_price("gpt-4-0613").model == "gpt-4"
    assert find_price("claude-3-5-sonnet-20241022").model == "claude-3-5-sonnet"
    assert find_price("openai/gpt-4.1").model == "gpt-4.1"
    # a snapshot priced apart from its family keeps its own row
    assert find_price("gpt-4o-2024-05-13").model == "gpt-4o-2024-05-13"


def test_unknown_model_gives_none():
    assert compute_cost("my-local-llama", 100, 10) is None
    assert compute_cost("", 100, 10) is None
    assert compute_cost("gpt-4o", None, None) is None


def test_cost_values():
    # gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M
    assert compute_cost("gpt-4o-2024-08-06", 1000, 100) == pytest.approx(0.0035)
    assert compute_cost("gpt-4o", 1000, 100, 400) == pytest.approx(
        (600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6
    )
    # no cached price: cached tokens billed as input
    assert compute_cost("gpt-4", 1000, 0, 500) == pytest.approx(0.03)


def test_every_row_has_checked_date():
    for price in price_table().values():
        assert len(price.checked) == 10 and price.checked[4] == "-", price


def test_user_file_overrides_and_extends(tmp_path, monkeypatch):
    own = tmp_path / "prices.csv"
    own.write_text(
        "model,input_per_1m,cached_input_per_1m,output_per_1m,checked\n"
        "gpt-4o,1.00,,2.00,2026-01-01\n"
        "my-llama,0.5,,0.5,2026-01-01\n"
    )
    monkeypatch.setenv(PRICES_ENV, str(own))
    assert compute_cost("gpt-4o-2024-11-20", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert compute_cost("my-llama", 2_000_000, 0) == pytest.approx(1.0)
    assert compute_cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)


def test_bad_user_file_is_a_config_error(tmp_path, monkeypatch):
    bad = tmp_path / "prices.csv"
    bad.write_text("model,input\ngpt-4o,1\n")
    monkeypatch.setenv(PRICES_ENV, str(bad))
    with pytest.raises(ConfigError, match="lacks columns"):
        compute_cost("gpt-4o", 1, 1)
    monkeypatch.setenv(PRICES_ENV, str(tmp_path / "missing.csv"))
    with pytest.raises(ConfigError, match=PRICES_ENV):
        compute_cost("gpt-4o", 1, 1)

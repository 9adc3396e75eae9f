"""The address the pack's links use: REVIEWDECK_APP_URL wins, else the address the page was
opened at, else the default of `reviewdeck serve`."""

from __future__ import annotations

import pytest

from models.report.model import ReportError, app_url, base_of_page_url


def test_page_address_is_used_unless_the_setting_says_otherwise(monkeypatch):
    monkeypatch.delenv("REVIEWDECK_APP_URL", raising=False)
    assert app_url() == "http://localhost:8501"
    assert app_url("http://10.0.0.5:8600") == "http://10.0.0.5:8600"
    assert app_url("javascript:alert(1)") == "http://localhost:8501"  # not an app address
    monkeypatch.setenv("REVIEWDECK_APP_URL", "https://review.example.com/rd/")
    assert app_url("http://127.0.0.1:8600") == "https://review.example.com/rd"
    monkeypatch.setenv("REVIEWDECK_APP_URL", "ftp://x")
    with pytest.raises(ReportError, match="REVIEWDECK_APP_URL"):
        app_url("http://127.0.0.1:8600")


def test_base_of_a_page_url_drops_the_page_and_keeps_a_base_path():
    assert base_of_page_url("http://127.0.0.1:8600/weekly", "weekly") == "http://127.0.0.1:8600"
    assert base_of_page_url("http://h/rd/weekly/", "weekly") == "http://h/rd"
    assert base_of_page_url("http://h:1/weekly?week=2026-W44#x", "weekly") == "http://h:1"
    assert base_of_page_url("http://h:1", "weekly") == "http://h:1"  # the default page
    assert base_of_page_url(None, "weekly") is None

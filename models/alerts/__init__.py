"""Alerts: the checks `reviewdeck check` runs on one week (or day) and what it does when one fires.

`config` reads and validates alerts.toml (defaults when there is none); `checks` runs the checks
(headline metrics worse, a new topic, an evaluator's fail rate rising, error rate and cost over a
threshold) and controls the family of tests with Benjamini–Hochberg, so several checks at once do
not cry wolf; `notify` shapes the result as text, JSON and a webhook payload and posts it.
"""

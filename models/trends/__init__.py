"""Feedback trends: rates and means per week with n and interval, week-over-week and model-vs-model
tests with a minimum-n guard and multiple-comparison control, and the segments that moved.

`core` holds the metric allow-list, the headline table and period counts over `trend_facts`;
`series` the per-bucket series behind the trend chart; `moved` the "what moved" segment ranking.
"""

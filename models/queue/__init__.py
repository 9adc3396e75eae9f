"""Human review queues: a frozen sample of events that reviewers label one at a time.

A queue is made from any source a page can name (an explorer filter, a cluster, a "what moved"
segment, a new topic's events, a rerun batch): `sources` turns the source into candidate events,
each with its stratum; `sample` draws a deterministic (seeded), optionally stratified sample;
`store` keeps queues, items, skips and the labels, which are ordinary `feedback` rows (source
'reviewer', name = the queue's rubric, author, queue_id, tags) so every page and the weekly pack
use them; `build` puts these together; `csvio` exports and imports labels as CSV.
See docs/review-queue.md.
"""

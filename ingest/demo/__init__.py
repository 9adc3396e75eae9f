"""The demo data generator: a realistic native JSONL log of a support assistant with planted
changes, and a sidecar of the truths it planted, so the views have something to find and the
tests know what they should find.

`plan` is the plan of base rates and planted changes; `text` the texts; `sample` draws every
random choice; `feedback` and `lines` assemble the JSON lines; `truths` summarises what was drawn;
`generate` writes a log and its truths.
"""

"""Datasets: named, frozen sets of events for regression checks (docs/datasets.md).

A dataset is made once from a source a user can name — an explorer filter, a review queue, a
cluster, a new topic's event ids, or a plain list of event ids (`sources` turns it into event
ids) — and its ids are stored (`store`), so later ingests never change it. `reviewdeck rerun
--dataset NAME` and `reviewdeck evaluate --dataset NAME` run on exactly those events, and each
rerun batch records the dataset it ran on, so `store.rerun_batches` lists every run on a
dataset with its judge's win/tie/loss, comparable to the last.
"""

"""Tests of models.datasets and `reviewdeck dataset`, `rerun --dataset`, `evaluate --dataset`."""

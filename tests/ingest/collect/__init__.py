"""Tests of `reviewdeck collect`, the OTLP/HTTP receiver (ingest/collect/)."""

"""Tests of models/evaluators: config, built-ins, sampling, the run loop, LLM judges, the CLI."""

"""Evaluators: code checks and LLM judges run over sampled traffic, results kept as feedback.

An evaluator is declared in `evaluators.toml` (config.py), or is one of the built-in code checks
that need no setup and no network (builtins.py). `reviewdeck evaluate` (runner.py) scores each
sampled event (sampling.py) once per evaluator version, writes an `evaluations` ledger row and a
`feedback` row together (store.py), and can be killed and resumed. LLM judges (llm.py) go through
the playground's named endpoints and client. See docs/evaluators.md.

The Python API for the demo and pages: `models.evaluators.run(db_path, ...)` -> RunSummary, and
`models.evaluators.builtins.BUILTINS`.
"""

from __future__ import annotations

from typing import Any


def run(db_path: Any, config: Any = None, **kwargs: Any) -> Any:
    """Run the evaluators (see models.evaluators.runner.run); imported lazily so `import
    models.evaluators` stays cheap."""
    from models.evaluators.runner import run as _run

    return _run(db_path, config, **kwargs)

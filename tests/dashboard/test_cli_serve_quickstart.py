"""The README's Quickstart is exactly two commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.strip().splitlines()]


def test_quickstart_is_two_commands_demo_then_tests():
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install") and commands[0].endswith("reviewdeck demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _quickstart_commands()[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci
    run_lines = [ln.strip() for ln in ci.splitlines() if not ln.lstrip().startswith("#")]
    assert any(ln.startswith(test_command) for ln in run_lines)


def test_readme_links_point_to_files():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [
        link
        for link in re.findall(r"\]\(((?:docs|\.)[^)#]*)\)", readme)
        if not (REPO / link).exists()
    ]
    assert not missing, f"README links to missing files: {missing}"

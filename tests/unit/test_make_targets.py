"""The README's test command runs both topologies' suites, and CI runs that same command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def _planned(target: str) -> list[str]:
    """The commands `make <target>` would run, in order, as make itself plans them (`make -n`)."""
    planned = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, check=True)
    return [line.strip() for line in planned.stdout.splitlines() if line.strip() and not line.startswith("make")]


def test_make_test_lints_then_runs_the_default_and_then_the_scaled_suite_and_ci_runs_make_test():
    commands = _planned("test")
    lint = next(i for i, c in enumerate(commands) if c.endswith("mypy"))
    default = commands.index("TOPOLOGY=single .venv/bin/pytest")
    stop_single = commands.index("TOPOLOGY=single .venv/bin/platformctl down")  # both topologies use the same ports
    scaled = commands.index("TOPOLOGY=scaled .venv/bin/pytest -m scaled")
    assert any(c.startswith(".venv/bin/ruff check") for c in commands[:lint])
    assert lint < default < stop_single < scaled, commands
    assert "exec make test" in (REPO / ".ci" / "run").read_text()


@pytest.mark.slow
def test_scaled_tests_are_collected_only_when_asked_for():
    def collected(*args: str) -> set[str]:
        out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:warnings",
                              *args, "tests/live/test_scaled_topology.py"], cwd=REPO,
                             capture_output=True, text=True).stdout
        return {line for line in out.splitlines() if "::" in line}

    assert not collected(), "the default run deselects the scaled tests"
    assert len(collected("-m", "scaled")) >= 6

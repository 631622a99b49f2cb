"""The README's test command runs both topologies' suites, and CI runs that same command."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _recipe(target: str) -> tuple[list[str], list[str]]:
    """(prerequisites, recipe lines) of a Makefile target."""
    text = (REPO / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:(?P<deps>[^\n]*)\n(?P<body>(?:\t[^\n]*\n)*)", text, re.M)
    assert match, f"no target {target} in the Makefile"
    return match["deps"].split(), [line.strip() for line in match["body"].splitlines()]


def test_make_test_lints_then_runs_the_default_and_the_scaled_suites_and_ci_runs_make_test():
    deps, _ = _recipe("test")
    assert deps == ["lint", "test-default", "test-scaled"]
    assert "exec make test" in (REPO / ".ci" / "run").read_text()



def test_the_scaled_suite_stops_the_single_stack_and_selects_only_scaled_tests():
    _, default = _recipe("test-default")
    assert any(line.startswith("TOPOLOGY=single") and "pytest" in line for line in default)
    _, scaled = _recipe("test-scaled")
    assert scaled[0] == "TOPOLOGY=single $(CTL) down", "both topologies use the same ports"
    assert any(line.startswith("TOPOLOGY=scaled") and line.endswith("pytest -m scaled") for line in scaled)


@pytest.mark.slow
def test_scaled_tests_are_collected_only_when_asked_for():
    def collected(*args: str) -> set[str]:
        out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:warnings",
                              *args, "tests/live/test_scaled_topology.py"], cwd=REPO,
                             capture_output=True, text=True).stdout
        return {line for line in out.splitlines() if "::" in line}

    assert not collected(), "the default run deselects the scaled tests"
    assert len(collected("-m", "scaled")) >= 6

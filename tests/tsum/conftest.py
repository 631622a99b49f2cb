"""Fixtures for the TSum tests: long-lived reference runners, one per hash seed."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.tsum.reference import ReferenceRunner

# PYTHONHASHSEED values the reference runs under (its ties follow set order).
REFERENCE_HASH_SEEDS = tuple(int(s) for s in os.environ.get("TSUM_REFERENCE_HASH_SEEDS", "0,1").split(","))

# Outcome counts of the property test, printed at the end of the run.
PROPERTY_STATS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def reference_runners() -> Iterator[list[ReferenceRunner]]:
    import tsum  # noqa: F401 - the reference is installed by `make` (Makefile): missing means a broken install
    runners = [ReferenceRunner(seed) for seed in REFERENCE_HASH_SEEDS]
    yield runners
    for runner in runners:
        runner.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Comparisons with the reference TSum run it in subprocesses: `slow`, left out of `make test-quick`."""
    for item in items:
        if "reference_runners" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PROPERTY_STATS:
        terminalreporter.write_sep("-", "tsum property test vs reference")
        for key, value in sorted(PROPERTY_STATS.items()):
            terminalreporter.write_line(f"{key}: {value}")

"""The live stack for end-to-end tests.

The session starts the local stack when it is not already healthy (and stops it again at the
end); a stack you started yourself is left running. Then it runs the bootstrap script, exactly
as a user would.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from realtime_platform.config import REPO_ROOT, settings
from realtime_platform.local.secrets import ensure_env_file
from realtime_platform.local.stack import down, status, up


def _healthy(cfg) -> bool:
    return all(row.health == "healthy" for row in status(cfg))


@pytest.fixture(scope="session")
def cfg():
    ensure_env_file()
    settings.cache_clear()
    return settings()


@pytest.fixture(scope="session")
def stack(cfg):
    started_here = not _healthy(cfg)
    if started_here:
        up(cfg)
    yield cfg
    if started_here and os.environ.get("KEEP_STACK") != "1":
        down(cfg)


def run_bootstrap(cfg, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **cfg.service_environment(), **env_overrides}
    return subprocess.run(["bash", str(REPO_ROOT / "scripts" / "bootstrap.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def bootstrapped(stack):
    result = run_bootstrap(stack)
    assert result.returncode == 0, f"bootstrap failed:\n{result.stdout}\n{result.stderr}"
    return stack


_FAULT_ROWS: list[tuple] = []
_WAREHOUSE_ROWS: list[tuple] = []
_PROCESS_NOTES: list[str] = []
_STATUS_LINES: list[str] = []
_VALUE_ROWS: list[tuple] = []


@pytest.fixture
def value_report() -> list[tuple]:
    """Rows (column, rows compared, rows differing, NULLs in the source) printed after the session."""
    return _VALUE_ROWS


@pytest.fixture
def fault_report() -> list[tuple]:
    """Rows (fault, rows expected, rows seen, duplicates, recovery) printed after the session."""
    return _FAULT_ROWS


@pytest.fixture
def warehouse_report() -> list[tuple]:
    """Rows (fault, report rows before/after, summary rows before/after, views ok, recovery)."""
    return _WAREHOUSE_ROWS


@pytest.fixture
def process_notes() -> list[str]:
    """Lines about the stack's processes after each step of a supervisor fault."""
    return _PROCESS_NOTES


@pytest.fixture
def status_report() -> list[str]:
    """Lines of `platformctl status` (processes and memory), printed after the session."""
    return _STATUS_LINES


def pytest_terminal_summary(terminalreporter):
    if _VALUE_ROWS:
        terminalreporter.section("value fidelity (all_types: PostgreSQL against hive.views.all_types)")
        terminalreporter.write_line(f"{'column':<14}{'compared':>10}{'differing':>11}{'NULLs':>7}")
        for column, compared, differing, nulls in _VALUE_ROWS:
            terminalreporter.write_line(f"{column:<14}{compared:>10}{differing:>11}{nulls:>7}")
    if _STATUS_LINES:
        terminalreporter.section("stack status")
        for line in _STATUS_LINES:
            terminalreporter.write_line(line)
    if _WAREHOUSE_ROWS:
        terminalreporter.section("warehouse fault report")
        terminalreporter.write_line(f"{'fault':<28}{'report rows':>14}{'summary rows':>15}{'views ok':>10}  recovery")
        for fault, report, summary, views_ok, recovery in _WAREHOUSE_ROWS:
            terminalreporter.write_line(f"{fault:<28}{report:>14}{summary:>15}{views_ok!s:>10}  {recovery}")
    if _PROCESS_NOTES:
        terminalreporter.section("stack processes during supervisor faults")
        for line in _PROCESS_NOTES:
            terminalreporter.write_line(line)
    if not _FAULT_ROWS:
        return
    terminalreporter.section("fault report")
    terminalreporter.write_line(f"{'fault':<22}{'expected':>9}{'seen':>7}{'dups':>6}  recovery")
    for fault, expected, seen, dups, recovery in _FAULT_ROWS:
        terminalreporter.write_line(f"{fault:<22}{expected:>9}{seen:>7}{dups:>6}  {recovery}")

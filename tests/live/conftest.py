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


@pytest.fixture
def fault_report() -> list[tuple]:
    """Rows (fault, rows expected, rows seen, duplicates, recovery) printed after the session."""
    return _FAULT_ROWS


def pytest_terminal_summary(terminalreporter):
    if not _FAULT_ROWS:
        return
    terminalreporter.section("fault report")
    terminalreporter.write_line(f"{'fault':<22}{'expected':>9}{'seen':>7}{'dups':>6}  recovery")
    for fault, expected, seen, dups, recovery in _FAULT_ROWS:
        terminalreporter.write_line(f"{fault:<22}{expected:>9}{seen:>7}{dups:>6}  {recovery}")

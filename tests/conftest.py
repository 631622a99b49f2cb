"""Shared test helpers: paths of the config files every test reads, and settings that do not
depend on the developer's `.env` (a fresh clone has none)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


TEST_SECRETS = {
    "postgres_password": "test-postgres", "debezium_password": "test-debezium",
    "aws_access_key_id": "test-key-id", "aws_secret_access_key": "test-aws-secret",
    "airflow_db_password": "test-airflow-db", "airflow_admin_password": "test-airflow-admin",
    "superset_db_password": "test-superset-db", "superset_admin_password": "test-superset-admin",
}


def make_settings(state_dir: Path, **overrides):
    """PlatformSettings from versions.env and the given values only: `.env` is not read, so a test
    sees the same settings on a fresh clone as on a developer's machine."""
    from realtime_platform.config import PlatformSettings

    return PlatformSettings(_env_file=REPO / "versions.env", state_dir=state_dir,
                            **{**TEST_SECRETS, **overrides})

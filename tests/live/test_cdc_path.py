"""End to end on the live local stack: Postgres → Debezium → Kafka → Pinot → Trino."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest
import requests

from realtime_platform.config import REPO_ROOT
from realtime_platform.generator import run_counts
from realtime_platform.trino_client import query
from tests.live.conftest import run_bootstrap
from tests.live.polling import wait

pytestmark = pytest.mark.live

VISIBLE_WITHIN_S = 120


def postgres_state(cfg) -> dict[tuple[int, int], str]:
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        return {(i, c): n for i, c, n in conn.execute("SELECT id, customer_id, name FROM person")}


def trino_rows(cfg) -> list[tuple[int, int, str]]:
    return query(cfg, "SELECT id, customer_id, name FROM hive.views.person")


def test_trino_view_equals_postgres_after_inserts_updates_deletes(bootstrapped):
    cfg = bootstrapped
    report = run_counts(cfg.postgres_dsn(), inserts=1000, updates=100, deletes=100, seed=2024)
    assert (report.inserted, report.updated, report.deleted) == (1000, 100, 100)
    expected = postgres_state(cfg)
    assert report.live_keys <= set(expected)

    seen: dict = {}
    duplicates = 0

    def equal() -> bool:
        nonlocal seen, duplicates
        rows = trino_rows(cfg)
        seen, duplicates = {(i, c): n for i, c, n in rows}, len(rows) - len({(i, c) for i, c, _ in rows})
        return seen == expected and not duplicates

    def differences() -> str:
        missing, extra = set(expected) - set(seen), set(seen) - set(expected)
        stale = {k for k in set(expected) & set(seen) if expected[k] != seen[k]}
        return (f"{len(missing)} missing, {len(extra)} extra (deleted: {len(extra & report.deleted_keys)}), "
                f"{len(stale)} stale names, {duplicates} duplicate keys")

    wait("the view equals PostgreSQL", equal, VISIBLE_WITHIN_S, every_s=1, explain=differences)
    assert not set(seen) & report.deleted_keys


def test_bootstrap_twice_changes_nothing(bootstrapped):
    cfg = bootstrapped
    before = requests.get(f"{cfg.connect.url}/connectors/person/config", timeout=10).json()
    result = run_bootstrap(cfg)
    assert result.returncode == 0, result.stderr
    assert "connector person: unchanged" in result.stdout
    assert "pinot schema person: unchanged" in result.stdout
    assert "pinot table person: unchanged" in result.stdout
    assert requests.get(f"{cfg.connect.url}/connectors/person/config", timeout=10).json() == before


def test_malformed_connector_file_leaves_running_connector_untouched(bootstrapped, tmp_path):
    cfg = bootstrapped
    before = requests.get(f"{cfg.connect.url}/connectors/person/config", timeout=10).json()
    broken = tmp_path / "debezium"
    shutil.copytree(REPO_ROOT / "debezium", broken)
    (broken / "person.json").write_text(json.dumps({"name": "person", "config": {}})[:-3])
    result = run_bootstrap(cfg, DEBEZIUM_DIR=str(broken))
    assert result.returncode == 2
    assert "person.json: malformed JSON" in result.stderr
    assert requests.get(f"{cfg.connect.url}/connectors/person/config", timeout=10).json() == before
    status = requests.get(f"{cfg.connect.url}/connectors/person/status", timeout=10).json()
    assert status["connector"]["state"] == "RUNNING"

"""The local Superset program: command, environment, state files, the bundle and its import zip."""

from __future__ import annotations

import json
import re
import stat
import zipfile

import pytest
import yaml

from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import python_app, supervisor
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services import superset as ss
from tests.conftest import make_settings

DB_PASSWORD = "ss-db-secret-123"
ADMIN_PASSWORD = "ss-admin-secret-456"
PG_PASSWORD = "pg-super-secret-789"


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERSET_DB_PASSWORD", DB_PASSWORD)
    monkeypatch.setenv("SUPERSET_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.delenv("SUPERSET_PORT", raising=False)
    monkeypatch.delenv("SUPERSET_URL", raising=False)
    return make_settings(tmp_path / "state", postgres_password=PG_PASSWORD,
                         superset_db_password=DB_PASSWORD, superset_admin_password=ADMIN_PASSWORD)


@pytest.fixture
def paths(cfg):
    return StatePaths(cfg.state_dir)


@pytest.fixture
def service(cfg, paths):
    return ss.superset_service(cfg, paths)


def _yaml(kind: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((ss.BUNDLE / kind).glob("**/*.yaml"))]


def test_one_program_after_trino_before_airflow(cfg, paths, service):
    assert 2 < service.stage < 10  # Trino: stage 2; Airflow: stage 10
    assert service.name == "superset"
    assert service.health.describe == "http://127.0.0.1:8088/health"
    assert service.on_healthy is not None
    script = service.command[2]
    assert str(ss.venv_bin("gunicorn")) in script and "--bind 127.0.0.1:8088" in script
    assert "db current 2>/dev/null | grep -q '(head)' || {" in script
    assert "db upgrade && " in script and " init; }; } && exec " in script
    assert script.index("db upgrade") < script.index("exec ")


def test_environment_points_at_files_not_secrets(cfg, paths, service):
    env = service.environment
    assert env["SUPERSET_CONFIG_PATH"] == str(REPO_ROOT / "superset" / "superset_config.py")
    assert env["SUPERSET_METADATA_URI"] == "postgresql+psycopg2://superset@127.0.0.1:5432/superset"
    assert env["SUPERSET_SECRET_KEY_FILE"].startswith(str(cfg.state_dir))
    assert env["PATH"].startswith(str(ss.VENV.path / "bin"))
    for value in env.values():
        for secret in (DB_PASSWORD, ADMIN_PASSWORD, PG_PASSWORD):
            assert secret not in value


def test_port_override_moves_the_server(cfg, paths):
    moved = cfg.model_copy(update={"ports": cfg.ports.model_copy(update={"superset": 18088})})
    service = ss.superset_service(moved, paths)
    assert "127.0.0.1:18088" in service.command[2]
    assert ss.superset_url(moved) == "http://127.0.0.1:18088"


def test_supervisord_reads_back_the_command(cfg, paths, service):
    import configparser
    import shlex

    target = supervisor.render_config([service], paths, {})
    parser = configparser.RawConfigParser()
    parser.read(target)
    assert shlex.split(parser["program:superset"]["command"]) == service.command


def test_state_files_are_private_and_the_key_stable(cfg, paths):
    sp = ss.write_state_files(cfg, paths)
    key = sp.secret_key.read_text()
    assert len(key) >= 40
    for file in (sp.secret_key, sp.pgpass, sp.admin_password):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(sp.secrets.stat().st_mode) == 0o700
    assert sp.pgpass.read_text() == f"127.0.0.1:5432:superset:superset:{DB_PASSWORD}\n"
    assert sp.admin_password.read_text() == ADMIN_PASSWORD
    ss.write_state_files(cfg, paths)
    assert sp.secret_key.read_text() == key


def test_prepare_defers_the_upgrade_while_postgres_is_down(cfg, paths, monkeypatch, capsys):
    monkeypatch.setattr(ss, "ensure_venv", lambda: ss.VENV)
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: False)
    monkeypatch.setattr(python_app, "run_migration", lambda *_: pytest.fail("must not upgrade"))
    ss.prepare_superset(cfg, paths)
    assert "upgrades it at start" in capsys.readouterr().out


@pytest.mark.slow
def test_prepare_upgrades_then_inits_when_postgres_answers(cfg, paths, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(ss, "ensure_venv", lambda: ss.VENV)
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: True)
    monkeypatch.setattr(python_app, "run_migration", lambda app, env: calls.append((app, env)))
    ss.prepare_superset(cfg, paths)
    assert "superset db upgrade + init" in capsys.readouterr().out
    [(app, env)] = calls
    superset = str(ss.venv_bin("superset"))
    assert app.migration_commands() == [[superset, "db", "upgrade"], [superset, "init"]]
    assert app.at_head == f"{superset} db current 2>/dev/null | grep -q '(head)'"
    assert "VIRTUAL_ENV" not in env and env["PGPASSFILE"] == str(app.paths.pgpass)


def test_bundle_zip_uses_this_trino(cfg, tmp_path):
    cfg = cfg.model_copy(update={"ports": cfg.ports.model_copy(update={"trino": 18080})})
    target = ss.build_bundle(cfg, tmp_path / "b.zip")
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        database = yaml.safe_load(archive.read("bundle/databases/Trino.yaml"))
    assert "bundle/metadata.yaml" in names
    assert len(names) == len(list(ss.BUNDLE.rglob("*.yaml")))
    assert database["sqlalchemy_uri"] == "trino://platform@127.0.0.1:18080/hive"


def test_bundle_references_resolve():
    databases = {d["uuid"] for d in _yaml("databases")}
    datasets = {d["uuid"]: d for d in _yaml("datasets")}
    charts = {c["uuid"]: c for c in _yaml("charts")}
    assert {(d["schema"], d["table_name"]) for d in datasets.values()} == {
        ("views", "orders"), ("reports", "orders_by_day"), ("views", "person")}
    assert all(d["database_uuid"] in databases for d in datasets.values())
    for chart in charts.values():
        dataset = datasets[chart["dataset_uuid"]]
        names = {m["metric_name"] for m in dataset["metrics"]}
        columns = {c["column_name"] for c in dataset["columns"]}
        context = json.loads(chart["query_context"])  # GET /api/v1/chart/<id>/data runs it
        for q in context["queries"]:
            assert set(q["metrics"]) <= names, chart["slice_name"]
            plain = {c for c in q["columns"] if isinstance(c, str)}
            assert plain <= columns, chart["slice_name"]
    used = set()
    for dashboard in _yaml("dashboards"):
        for item in dashboard["position"].values():
            if isinstance(item, dict) and item.get("type") == "CHART":
                assert item["meta"]["uuid"] in charts
                assert item["meta"]["sliceName"] == charts[item["meta"]["uuid"]]["slice_name"]
                used.add(item["meta"]["uuid"])
    assert used == set(charts), "every chart is on a dashboard"
    assert {d["slug"] for d in _yaml("dashboards")} == {"orders-by-day", "customers"}


def test_requirements_are_pinned_and_keep_sqlalchemy_1():
    text = ss.REQUIREMENTS.read_text()
    pins = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==\S+", line) for line in pins), pins
    assert "apache-superset==6.1.0" in pins and "trino==0.336.0" in pins
    assert any(p.startswith("sqlalchemy==1.") for p in pins)
    assert ss.superset_version() == "6.1.0"


def test_init_sql_takes_the_password_from_the_environment():
    sql = (REPO_ROOT / "postgres" / "init" / "030-superset.sql").read_text()
    assert "\\set app superset\n" in sql and "\\getenv password SUPERSET_DB_PASSWORD\n" in sql
    assert "\\ir lib/metadata-database.psql" in sql
    shared = (REPO_ROOT / "postgres" / "init" / "lib" / "metadata-database.psql").read_text()
    assert "CREATE DATABASE %I OWNER %I" in shared and "PASSWORD %L" in shared

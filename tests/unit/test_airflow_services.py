"""The local Airflow programs: commands, environment, supervisord rendering, state files."""

from __future__ import annotations

import json
import shlex
import stat
import subprocess

import pytest

from tests.conftest import make_settings
from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local.services import airflow as af
from realtime_platform.local import python_app
from realtime_platform.local.paths import StatePaths

DB_PASSWORD = "af-db-secret-123"
ADMIN_PASSWORD = "af-admin-secret-456"
PG_PASSWORD = "pg-super-secret-789"


def make_cfg(tmp_path) -> PlatformSettings:
    """Settings with test secrets (the Airflow ones from the environment, as in a fresh CI)."""
    import os

    return make_settings(tmp_path / "state", postgres_password=PG_PASSWORD,
                         airflow_db_password=os.environ["AIRFLOW_DB_PASSWORD"],
                         airflow_admin_password=os.environ["AIRFLOW_ADMIN_PASSWORD"])


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_DB_PASSWORD", DB_PASSWORD)
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", ADMIN_PASSWORD)
    return make_cfg(tmp_path)


@pytest.fixture
def paths(cfg):
    return StatePaths(cfg.state_dir)


@pytest.fixture
def services(cfg, paths):
    return [factory(cfg, paths) for factory, _ in af.AIRFLOW_SPECS]


def test_four_programs_in_one_late_stage(services):
    assert [s.name for s in services] == ["airflow-api-server", "airflow-scheduler",
                                          "airflow-dag-processor", "airflow-triggerer"]
    assert {s.stage for s in services} == {af.AIRFLOW_STAGE}
    assert all(s.health.describe == "http://127.0.0.1:8085/api/v2/monitor/health" for s in services)


def test_only_the_api_server_migrates_and_no_log_server_listens(services):
    scripts = {s.name: s.command[2] for s in services}
    assert all(s.command[:2] == ["/bin/sh", "-c"] for s in services)
    assert " db check-migrations -t 1 >/dev/null 2>&1 || { " in scripts["airflow-api-server"]
    assert " db migrate; }; } && exec " in scripts["airflow-api-server"]
    assert scripts["airflow-api-server"].endswith(" api-server")
    for name in ("airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert " db check-migrations -t 600 && exec " in scripts[name]
        assert "db migrate" not in scripts[name]
    assert scripts["airflow-scheduler"].endswith("scheduler --skip-serve-logs")
    assert scripts["airflow-triggerer"].endswith("triggerer --skip-serve-logs")
    assert scripts["airflow-dag-processor"].endswith("dag-processor")


def test_start_scripts_migrate_unless_at_the_head_then_start(cfg, paths, tmp_path, monkeypatch):
    """The shell around each program, run with a stand-in `airflow` that logs its arguments and
    whose database is a file (`db migrate` writes it, `db check-migrations` reads it)."""
    calls, database = tmp_path / "calls.log", tmp_path / "database"
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                    f'case "$1 $2" in "db check-migrations") [ -e {database} ];; "db migrate") touch {database};; esac\n')
    fake.chmod(0o755)
    monkeypatch.setattr(af, "airflow_bin", lambda: fake)
    af.airflow_paths(paths).home.mkdir(parents=True)

    def run(factory) -> list[str]:
        calls.write_text("")
        subprocess.run(factory(cfg, paths).command, check=True, timeout=30)
        return calls.read_text().splitlines()

    check = "db check-migrations -t 1"
    assert run(af.airflow_api_server_service) == [check, "db migrate", "api-server"]
    assert run(af.airflow_api_server_service) == [check, "api-server"]
    assert run(af.airflow_scheduler_service) == ["db check-migrations -t 600", "scheduler --skip-serve-logs"]
    assert run(af.airflow_triggerer_service) == ["db check-migrations -t 600", "triggerer --skip-serve-logs"]
    database.unlink()  # the data folder moved aside, or a restored older database
    assert run(af.airflow_api_server_service) == [check, "db migrate", "api-server"]


def test_environment_configures_airflow(cfg, paths, services):
    env = services[0].environment
    assert all(s.environment == env for s in services)
    assert env["AIRFLOW_HOME"] == str(cfg.state_dir / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO_ROOT / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(REPO_ROOT / "plugins")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1" and env["AIRFLOW__API__PORT"] == "8085"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8085/execution/"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == \
        "postgresql+psycopg2://airflow@127.0.0.1:5432/airflow"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert env["AIRFLOW_CONN_TRINO_DEFAULT"] == \
        "trino://platform@127.0.0.1:8080/?catalog=hive&protocol=http"
    assert env["AIRFLOW_CONN_POSTGRES_APP"] == "postgresql://airflow@127.0.0.1:5432/app"
    assert env["PGPASSFILE"].startswith(str(cfg.state_dir / "airflow"))
    # DataHub's Airflow plugin writes where the catalog runner's airflow_lineage recipe reads
    from realtime_platform.catalog.recipes import catalog_environment

    assert env["AIRFLOW__DATAHUB__CONN_ID"] == "datahub_file"
    datahub_conn = json.loads(env["AIRFLOW_CONN_DATAHUB_FILE"])
    assert datahub_conn["conn_type"] == "datahub-file"
    assert datahub_conn["host"] == catalog_environment(
        {"DATAHUB_STATE_DIR": str(cfg.state_dir / "datahub")})["DATAHUB_AIRFLOW_LINEAGE_FILE"]
    for key in ("AIRFLOW__CORE__FERNET_KEY_CMD", "AIRFLOW__API_AUTH__JWT_SECRET_CMD",
                "AIRFLOW__API__SECRET_KEY_CMD"):
        assert shlex.split(env[key])[0] == "cat"


def test_no_secret_reaches_the_environment(cfg, paths, services):
    rendered = json.dumps(services[0].environment) + " ".join(services[0].command)
    for value in (DB_PASSWORD, ADMIN_PASSWORD, PG_PASSWORD, "dbz-secret", "aws-secret"):
        assert value not in rendered


def test_a_port_setting_moves_the_api_server(cfg, paths):
    moved = cfg.model_copy(update={"ports": cfg.ports.model_copy(update={"airflow": 18085})})
    env = af.airflow_environment(moved, paths)
    assert env["AIRFLOW__API__PORT"] == "18085"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18085/execution/"


def test_supervisord_reads_back_every_command_and_variable(cfg, paths, services):
    from supervisor.options import ServerOptions

    from realtime_platform.local import supervisor

    paths.create()
    conf = supervisor.render_config(services, paths, cfg.service_environment())
    options = ServerOptions()
    options.realize(args=["-c", str(conf)])
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    for service in services:
        program = programs[service.name]
        assert shlex.split(program.command) == service.command
        marks = {"REALTIME_PLATFORM_STATE_DIR": str(paths.root), "REALTIME_PLATFORM_SERVICE": service.name}
        assert program.environment == {**cfg.service_environment(), **service.environment, **marks}
        assert program.directory == str(service.directory)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_files_are_private_and_keys_stable(cfg, paths, tmp_path, monkeypatch):
    ap = af.write_state_files(cfg, paths)
    assert json.loads(ap.passwords_file.read_text()) == {"admin": ADMIN_PASSWORD}
    assert ap.pgpass.read_text() == f"127.0.0.1:5432:*:airflow:{DB_PASSWORD}\n"
    assert mode(ap.secrets) == 0o700
    for path in (ap.passwords_file, ap.pgpass, ap.fernet_key, ap.jwt_secret, ap.api_secret_key, ap.config):
        assert mode(path) == 0o600, path
    keys = [p.read_text() for p in (ap.fernet_key, ap.jwt_secret, ap.api_secret_key)]
    assert all(len(k) >= 32 for k in keys)

    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", "rotated")
    af.write_state_files(make_cfg(tmp_path), paths)
    assert json.loads(ap.passwords_file.read_text()) == {"admin": "rotated"}
    assert [p.read_text() for p in (ap.fernet_key, ap.jwt_secret, ap.api_secret_key)] == keys


def test_prepare_defers_the_migration_while_postgres_is_down(cfg, paths, monkeypatch, capsys):
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: False)
    monkeypatch.setattr(python_app, "run_migration", lambda *_: pytest.fail("must not migrate"))
    af.prepare_airflow(cfg, paths)
    assert "migrates it at start" in capsys.readouterr().out
    assert af.airflow_paths(paths).pgpass.exists()


def test_prepare_migrates_when_postgres_answers_and_the_database_is_not_at_the_head(cfg, paths, monkeypatch):
    calls, heads = [], []
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: True)
    monkeypatch.setattr(python_app, "at_head", lambda app, env: heads.append(app.at_head) or bool(calls))
    monkeypatch.setattr(python_app, "run_migration", lambda app, env: calls.append((app, env)))
    af.prepare_airflow(cfg, paths)
    [(app, env)] = calls
    assert app.migration_commands() == [[str(af.airflow_bin()), "db", "migrate"]]
    assert heads == [f"{af.airflow_bin()} db check-migrations -t 1 >/dev/null 2>&1"]
    assert env["AIRFLOW_HOME"] == str(app.paths.home) and env["PGPASSFILE"] == str(app.paths.pgpass)
    af.prepare_airflow(cfg, paths)  # now at the head
    assert len(calls) == 1 and len(heads) == 2

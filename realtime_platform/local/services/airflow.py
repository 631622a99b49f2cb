"""Airflow 3 in the local mode: api-server (UI and REST API), scheduler, dag-processor and triggerer
as four supervisord programs, plus the one-time preparation they share.

Everything is configured by `AIRFLOW__SECTION__KEY` variables (no airflow.cfg in the repository):
LocalExecutor, metadata in the platform's PostgreSQL (database and role `airflow`, created by
postgres/init/020-airflow.sql), `AIRFLOW_HOME` in the state folder, DAGs and plugins from the
repository, the API server on 127.0.0.1. The programs' own environment carries no secret:
`prepare_airflow` writes them to files of mode 600 in the state folder, which the environment
names (a libpq password file, `*_CMD` options, the simple auth manager's passwords file).
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from realtime_platform.airflow import reports
from realtime_platform.config import (
    AIRFLOW_DB_CONN_ID,
    POSTGRES_CONN_ID,
    REPO_ROOT,
    TRINO_CONN_ID,
    PlatformSettings,
    airflow_lineage_file,
)
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.python_app import AppPaths, PythonApp, migrate_if_reachable, migrate_then, write_home
from realtime_platform.local.services.base import Service
from realtime_platform.local.state_files import secret, write_once, write_private

# Airflow starts last: its DAGs query Trino, and the heavy JVMs are up by then (2 cores).
AIRFLOW_STAGE = 10
PARALLELISM = 4  # LocalExecutor starts this many worker processes; ~45 MB each
START_TIMEOUT_S = 300  # the first start migrates the metadata database

DB_NAME = "airflow"  # see postgres/init/020-airflow.sql
DB_USER = "airflow"
ADMIN_USER = "admin"
DATAHUB_CONN_ID = "datahub_file"


@dataclass(frozen=True)
class AirflowPaths(AppPaths):
    @property
    def config(self) -> Path:
        """A near-empty airflow.cfg: its presence stops Airflow writing a 3,000-line default."""
        return self.home / "airflow.cfg"

    @property
    def passwords_file(self) -> Path:
        """The simple auth manager's {"user": "password"} file (written from .env)."""
        return self.secrets / "simple_auth_manager_passwords.json"

    @property
    def fernet_key(self) -> Path:
        return self.secrets / "fernet_key"

    @property
    def jwt_secret(self) -> Path:
        return self.secrets / "jwt_secret"

    @property
    def api_secret_key(self) -> Path:
        return self.secrets / "api_secret_key"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


def airflow_paths(paths: StatePaths) -> AirflowPaths:
    return AirflowPaths(paths.root / "airflow")


def airflow_bin() -> Path:
    """The `airflow` command of the running venv (pinned in pyproject)."""
    return Path(sys.executable).parent / "airflow"


def airflow_version() -> str:
    try:
        return importlib.metadata.version("apache-airflow-core")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def airflow_app(paths: StatePaths) -> PythonApp:
    ap = airflow_paths(paths)
    # `airflow db migrate` creates or upgrades Airflow's tables; `airflow db check-migrations` compares
    # the database's Alembic heads with this version's (the other programs wait on it, see `_component`).
    return PythonApp(name="airflow", executable=airflow_bin(), paths=ap, migrations=(("db", "migrate"),),
                     at_head=f"{shlex.quote(str(airflow_bin()))} db check-migrations -t 1 >/dev/null 2>&1",
                     db_name=DB_NAME, db_user=DB_USER,
                     # `*`: the role also reads the application's database (data-quality checks)
                     pgpass_database="*")


def airflow_environment(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    """Every setting of the Airflow processes, as environment variables; no secret values."""
    ap = airflow_paths(paths)
    host = cfg.bind_host
    url = cfg.airflow.url
    trino = cfg.trino

    def cat(path: Path) -> str:  # `*_CMD` options run this (split with shlex) when read
        return f"cat {shlex.quote(str(path))}"

    env = {
        "AIRFLOW_HOME": str(ap.home),
        "AIRFLOW_CONFIG": str(ap.config),
        "PGPASSFILE": str(ap.pgpass),
        "S3_BUCKET": cfg.s3_bucket,
        # [core]
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # New DAGs run on their schedule without a click (the views must exist every day).
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(ap.passwords_file),
        # Task processes report to the API server; the default (localhost:8080) is Trino here.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__FERNET_KEY_CMD": cat(ap.fernet_key),
        # [database]: the password comes from PGPASSFILE (libpq and asyncpg both read it).
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
            f"postgresql+psycopg2://{DB_USER}@{host}:{cfg.ports.postgres}/{DB_NAME}",
        # [api]
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(cfg.ports.airflow),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY_CMD": cat(ap.api_secret_key),
        "AIRFLOW__API_AUTH__JWT_SECRET_CMD": cat(ap.jwt_secret),
        # [dag_processor]: a few DAG files, 2 cores.
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(ap.logs),
        # Connections.
        f"AIRFLOW_CONN_{TRINO_CONN_ID.upper()}":
            f"trino://{cfg.trino_user}@{trino.host_port}/?catalog=hive&protocol={trino.scheme}",
        f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}":
            f"postgresql://{DB_USER}@{host}:{cfg.ports.postgres}/{cfg.postgres_db}",
        f"AIRFLOW_CONN_{AIRFLOW_DB_CONN_ID.upper()}": f"postgresql://{DB_USER}@{host}:{cfg.ports.postgres}/{DB_NAME}",
        # [datahub]: DataHub's Airflow plugin records each task's lineage (SQL parsed by DataHub)
        # in a file; the datahub_ingestion DAG's `airflow_lineage` recipe loads it into the catalog.
        "AIRFLOW__DATAHUB__CONN_ID": DATAHUB_CONN_ID,
        f"AIRFLOW_CONN_{DATAHUB_CONN_ID.upper()}": json.dumps(
            {"conn_type": "datahub-file", "host": str(airflow_lineage_file(paths.root / "datahub"))}),
        "AIRFLOW__DATAHUB__ENABLE_MULTI_STATEMENT_SQL_PARSING": "True",  # the view files hold several
        # Our Airflow assets are named like the Trino tables (`hive.views.orders`); the plugin would
        # add them as datasets of a platform `airflow`, next to the Trino ones parsed from the SQL.
        "AIRFLOW__DATAHUB__CAPTURE_AIRFLOW_ASSETS": "False",
        "AIRFLOW__DATAHUB__DATASET_PATTERN": json.dumps({"deny": [reports.CATALOG_DENY_VERSIONS]}),
    }
    return env


def subprocess_environment(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    """The environment for running `airflow ...` by hand or from a test, as the services see it."""
    return {**os.environ, **cfg.service_environment(), **airflow_environment(cfg, paths)}


# --- the four programs ----------------------------------------------------------------------------

def _component(cfg: PlatformSettings, paths: StatePaths, name: str, args: list[str],
               check: health.HealthCheck, migrate_first: bool = False) -> Service:
    app = airflow_app(paths)
    command = f"exec {shlex.join([str(app.executable), *args])}"
    if migrate_first:
        # The API server migrates the metadata database unless `prepare_airflow` already did
        # (the very first `up`: PostgreSQL was not running yet when it ran).
        script = migrate_then(app, command)
    else:
        # The others wait for that migration: Airflow's own check, at most 10 minutes, then it
        # fails naming the heads. `exec`: supervisord signals Airflow itself, not the shell.
        wait = shlex.join([str(app.executable), "db", "check-migrations", "-t", "600"])
        script = f"{wait} && {command}"
    return Service(name, ["/bin/sh", "-c", script], check, stage=AIRFLOW_STAGE,
                   start_timeout_s=START_TIMEOUT_S, directory=airflow_paths(paths).home,
                   environment=airflow_environment(cfg, paths))


def _health_url(cfg: PlatformSettings) -> str:
    return f"{cfg.airflow.url}/api/v2/monitor/health"


def _component_healthy(component: str):
    def accept(response) -> bool:
        return (response.json().get(component) or {}).get("status") == "healthy"
    return accept


def airflow_api_server_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    check = health.http(_health_url(cfg), _component_healthy("metadatabase"))
    return _component(cfg, paths, "airflow-api-server", ["api-server"], check, migrate_first=True)


def airflow_scheduler_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    # --skip-serve-logs: the log server would listen on every interface; the API server reads
    # the task logs from disk (same machine), so it is not needed.
    check = health.http(_health_url(cfg), _component_healthy("scheduler"))
    return _component(cfg, paths, "airflow-scheduler", ["scheduler", "--skip-serve-logs"], check)


def airflow_dag_processor_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    check = health.http(_health_url(cfg), _component_healthy("dag_processor"))
    return _component(cfg, paths, "airflow-dag-processor", ["dag-processor"], check)


def airflow_triggerer_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    check = health.http(_health_url(cfg), _component_healthy("triggerer"))
    return _component(cfg, paths, "airflow-triggerer", ["triggerer", "--skip-serve-logs"], check)


# --- one-time preparation -------------------------------------------------------------------------

def write_state_files(cfg: PlatformSettings, paths: StatePaths) -> AirflowPaths:
    """AIRFLOW_HOME and the secret files. Keys are generated once; passwords follow .env."""
    ap = airflow_paths(paths)
    write_home(airflow_app(paths), cfg)
    ap.logs.mkdir(parents=True, exist_ok=True)
    write_once(ap.fernet_key, lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())
    # 64 bytes at least: the JWTs are signed with HMAC-SHA512.
    write_once(ap.jwt_secret, lambda: secrets.token_urlsafe(64))
    write_once(ap.api_secret_key, lambda: secrets.token_urlsafe(64))
    write_private(ap.passwords_file, json.dumps({ADMIN_USER: secret(cfg, "AIRFLOW_ADMIN_PASSWORD")}))
    if not ap.config.exists():
        write_private(ap.config, "# Airflow reads its settings from the environment: see\n"
                                  "# realtime_platform/local/services/airflow.py. Keep this file: "
                                  "without it Airflow writes a default one here.\n")
    return ap


def prepare_airflow(cfg: PlatformSettings, paths: StatePaths) -> None:
    """Before the Airflow programs start: the state files, then `airflow db migrate` when the
    database is not at this Airflow version's migration head (`airflow db check-migrations`).
    On the very first `up` PostgreSQL, and so the `airflow` database, is not there yet: then the
    API server migrates when it starts and the other programs wait for it (see `_component`).
    The catalog's Python environment, which the datahub_ingestion tasks run, is built here too."""
    from realtime_platform.catalog.environment import CATALOG_VENV

    CATALOG_VENV.ensure()
    write_state_files(cfg, paths)
    migrate_if_reachable(airflow_app(paths), cfg, subprocess_environment(cfg, paths),
                         at_start="the API server migrates it at start")


AIRFLOW_SPECS = [
    (airflow_api_server_service, prepare_airflow),
    (airflow_scheduler_service, None),
    (airflow_dag_processor_service, None),
    (airflow_triggerer_service, None),
]

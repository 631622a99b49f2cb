"""Airflow for the DAG tests: a throw-away AIRFLOW_HOME, no examples, no metadata database, no
connection or secret from the developer's environment.

Airflow reads its configuration when first imported, so tests that import it in this process use
the `airflow_home` fixture first; parsing tests run in a fresh interpreter (`parse_dags`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DAGS = REPO / "dags"

# Airflow is a required dependency: without it these tests fail at import, they are not skipped.
import airflow  # noqa: E402,F401

AIRFLOW_TEST_ENV = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
}


def _clean_environment() -> dict[str, str]:
    """os.environ without Airflow settings, connections or secrets (passwords, keys)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "AWS_")) and not any(
                word in k.upper() for word in ("PASSWORD", "SECRET", "TOKEN"))}


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """Points this process's Airflow at a fresh home (call before importing airflow)."""
    home = tmp_path_factory.mktemp("airflow-home")
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("AIRFLOW")]:
        del os.environ[key]
    os.environ.update(AIRFLOW_TEST_ENV, AIRFLOW_HOME=str(home),
                      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/unused.db")
    yield home
    os.environ.clear()
    os.environ.update(saved)


PARSE_SCRIPT = r"""
import json, socket, sys, time

def no_network(*args, **kwargs):
    raise OSError("network access while parsing DAGs")

socket.socket.connect = no_network
socket.socket.connect_ex = no_network
socket.create_connection = no_network

started = time.perf_counter()
import airflow.sdk  # what every DAG file imports anyway: not counted as the DAG's cost
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.dag_processing.dagbag import DagBag
airflow_s = time.perf_counter() - started
before = set(sys.modules)

bag = DagBag(sys.argv[1], safe_mode=False)
after = set(sys.modules)

def task_info(task):
    return {
        "type": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "retries": task.retries,
        "conn_id": getattr(task, "conn_id", None),
        "handler": getattr(getattr(task, "handler", None), "__name__", None),
        "requires_result_fetch": getattr(task, "requires_result_fetch", None),
        "pre_execute": getattr(getattr(task, "_pre_execute_hook", None), "__qualname__", None),
        "do_xcom_push": task.do_xcom_push,
        "split_statements": getattr(task, "split_statements", None),
        "sql": getattr(task, "sql", None),
    }

print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "airflow_import_s": airflow_s,
    "file_parse_s": {str(stat.file): stat.duration.total_seconds() if hasattr(stat.duration, "total_seconds") else stat.duration
                     for stat in bag.dagbag_stats},
    "modules_loaded_by_dags": sorted(after - before),
    "modules": sorted(after),
    "dags": {
        dag_id: {
            "tags": sorted(dag.tags),
            "schedule": str(dag.schedule) if dag.schedule is not None else None,
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tasks": {task.task_id: task_info(task) for task in dag.tasks},
        }
        for dag_id, dag in bag.dags.items()
    },
}))
"""


@pytest.fixture(scope="session")
def parse_dags(tmp_path_factory):
    """Parses dags/ in a fresh interpreter with no network, no secrets and no database."""
    home = tmp_path_factory.mktemp("airflow-parse-home")
    env = {**_clean_environment(), **AIRFLOW_TEST_ENV, "AIRFLOW_HOME": str(home),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/unused.db"}
    result = subprocess.run([sys.executable, "-c", PARSE_SCRIPT, str(DAGS)], env=env, cwd=home,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])

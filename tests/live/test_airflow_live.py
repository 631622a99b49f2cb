"""Airflow on the live stack: the create_views DAG builds the views and the report table from
Pinot through Trino, they hold the rows of PostgreSQL, and a run triggered through the API server
succeeds.

Needs the Airflow programs of realtime_platform.local.services.airflow in the stack.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
import requests

from realtime_platform.airflow.quality import window
from realtime_platform.airflow.reports import current_version
from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.local.paths import state_paths
from realtime_platform.local.services import airflow as af
from realtime_platform.trino_client import query
from tests.live.orders import insert_orders, wait_for_cdc

pytestmark = pytest.mark.live

DAG_ID = "create_views"
RUN_WITHIN_S = 900


@pytest.fixture(scope="module")
def airflow(bootstrapped):
    cfg = bootstrapped
    health = requests.get(f"{cfg.airflow.url}/api/v2/monitor/health", timeout=10)
    assert health.ok, f"Airflow's API server does not answer at {cfg.airflow.url}"
    states = {k: (v or {}).get("status") for k, v in health.json().items()}
    assert set(states.values()) == {"healthy"}, states
    api = AirflowClient(cfg, DAG_ID)
    api.wait_until_known()
    api.wait_idle()
    return cfg, api


def postgres_orders(cfg, ds: str) -> dict[int, tuple]:
    start, end = (t.replace(tzinfo=None) for t in window(ds))
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        rows = conn.execute("SELECT order_id, created_at::date, channel, customer_id, amount FROM orders "
                            "WHERE created_at >= %s AND created_at < %s", (start, end)).fetchall()
    return {r[0]: r[1:] for r in rows}


def run_airflow(cfg, *args: str, timeout: float = RUN_WITHIN_S) -> subprocess.CompletedProcess:
    env = af.subprocess_environment(cfg, state_paths(cfg))
    return subprocess.run([str(af.airflow_bin()), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=af.airflow_paths(state_paths(cfg)).home)


@pytest.fixture(scope="module")
def dags_test_run(airflow):
    """`airflow dags test create_views <tomorrow>` (so today's orders are in the window), with the
    DAG paused meanwhile: a running scheduler would otherwise run the same run's tasks too."""
    cfg, api = airflow
    insert_orders(cfg)
    wait_for_cdc(cfg)
    ds = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    with api.paused():
        result = run_airflow(cfg, "dags", "test", DAG_ID, ds)
    return cfg, api, ds, result


def test_dags_test_succeeds(dags_test_run):
    _, _, _, result = dags_test_run
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "state=success" in output, output[-6000:]


def test_orders_view_holds_the_window_of_postgres(dags_test_run):
    cfg, _, ds, _ = dags_test_run
    expected = postgres_orders(cfg, ds)
    rows = query(cfg, "SELECT order_id, CAST(created_at AS date), channel, customer_id FROM hive.views.orders")
    assert len(rows) == len({r[0] for r in rows}), "duplicate order_id in hive.views.orders"
    assert {r[0] for r in rows} == set(expected)
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == {k: v[:3] for k, v in expected.items()}
    today = datetime.now(UTC).date()
    assert any(v[0] == today for v in expected.values()), "no order of today in the window"
    assert all(v[0] >= date.fromisoformat(ds) - timedelta(days=365) for v in expected.values())


def report_rows(cfg) -> dict[tuple, tuple]:
    rows = query(cfg, "SELECT day, channel, orders, customers, revenue FROM hive.reports.orders_by_day")
    assert len(rows) == len({(r[0], r[1]) for r in rows}), "duplicate (day, channel) in the report"
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def test_report_table_aggregates_the_window(dags_test_run):
    cfg, _, ds, _ = dags_test_run
    expected: dict[tuple, list] = {}
    for day, channel, customer_id, amount in postgres_orders(cfg, ds).values():
        entry = expected.setdefault((day, channel), [0, set(), Decimal(0)])
        entry[0] += 1
        entry[1].add(customer_id)
        entry[2] += amount  # NUMERIC(12,2) in both: the view's decimal sums exactly
    report = report_rows(cfg)
    assert set(report) == set(expected)
    for key, (orders, customers, revenue) in report.items():
        assert (orders, customers) == (expected[key][0], len(expected[key][1])), key
        assert revenue == expected[key][2], key
    # The report is a view over its newest version, a Parquet table of its own under reports/.
    version = current_version(lambda sql: query(cfg, sql), "orders_by_day")
    assert version, "hive.reports.orders_by_day reads no version table"
    files = query(cfg, f'SELECT DISTINCT "$path" FROM hive.reports.{version}')
    assert files and all(f.startswith(f"s3://{cfg.s3_bucket}/reports/{version}/") for (f,) in files)


def test_report_refresh_is_idempotent(dags_test_run):
    cfg, api, ds, _ = dags_test_run
    before = report_rows(cfg)
    with api.paused():
        result = run_airflow(cfg, "tasks", "test", DAG_ID, "orders_by_day", ds)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert report_rows(cfg) == before


def test_bad_statement_fails_the_task_on_real_trino(airflow):
    """The DAG's own task, given a statement Trino rejects, raises (so the task fails)."""
    cfg, _ = airflow
    script = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        "import sys\n"
        "task = DagBag(sys.argv[1]).dags['create_views'].get_task('orders')\n"
        "task.sql = 'CREATE OR REPLACE VIEW hive.views.live_test_bad AS "
        "SELECT no_such_column FROM pinot.default.orders'\n"
        "try:\n"
        "    task.execute({})\n"
        "except Exception as error:\n"
        "    print('FAILED AS EXPECTED:', error)\n"
        "    sys.exit(0)\n"
        "sys.exit('the bad statement did not fail the task')\n")
    env = af.subprocess_environment(cfg, state_paths(cfg))
    result = subprocess.run([sys.executable, "-c", script, env["AIRFLOW__CORE__DAGS_FOLDER"]], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "no_such_column" in result.stdout


def test_run_triggered_through_the_api_succeeds(airflow):
    cfg, api = airflow
    api.wait_idle()
    api.set_paused(False)
    run_id = api.trigger(f"live_test_{uuid.uuid4().hex[:8]}")
    state, summary = api.wait_for_run(run_id, timeout_s=RUN_WITHIN_S)
    assert state == "success", f"run {run_id} {state}: {summary}"
    assert set(summary.values()) == {"success"}


def test_run_without_a_logical_date_succeeds(airflow):
    """Airflow 3 lets API clients (and asset events) start a run with no logical date: no `ds`."""
    cfg, api = airflow
    api.wait_idle()
    api.set_paused(False)
    run_id = api.trigger(f"live_test_no_date_{uuid.uuid4().hex[:8]}", with_logical_date=False)
    state, summary = api.wait_for_run(run_id, timeout_s=RUN_WITHIN_S)
    assert state == "success", f"run {run_id} {state}: {summary}"
    assert set(summary.values()) == {"success"}

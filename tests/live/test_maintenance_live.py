"""The maintenance DAG removes Airflow's runs and task logs past the retention, and only those: a
run with a retention of zero days, limited to the maintenance DAG, removes that DAG's earlier run
from the database and its log folder, and leaves itself and every other DAG's runs alone."""

from __future__ import annotations

import time

import pytest

from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.local.paths import state_paths
from realtime_platform.local.services.airflow import airflow_paths
from tests.live.airflow_runs import first_try_succeeded, ready_client
from tests.live.polling import wait

pytestmark = pytest.mark.live


def run_ids(client: AirflowClient, dag_id: str) -> set[str]:
    runs = client.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1000}).json()["dag_runs"]
    return {run["dag_run_id"] for run in runs}


def test_a_zero_day_retention_removes_the_earlier_run_and_its_logs_and_nothing_else(bootstrapped):
    cfg = bootstrapped
    logs = airflow_paths(state_paths(cfg)).logs / "dag_id=maintenance"
    client = ready_client(cfg, "maintenance")

    first = client.trigger(conf={"retention_days": 30})
    state, tasks = client.wait_for_run(first, timeout_s=300)
    assert state == "success" and first_try_succeeded(client, first), tasks
    assert (logs / f"run_id={first}").is_dir()
    # DataHub's lineage listener still writes to a task's log after the run is marked done.
    wait("the first run's logs are complete", lambda: time.time() - max(
        f.stat().st_mtime for f in (logs / f"run_id={first}").rglob("*.log")) > 2, 60, every_s=1)
    others = {dag_id: run_ids(client, dag_id) for dag_id in ("cdc_health", "create_views")}

    second = client.trigger(conf={"retention_days": 0, "dag_ids": ["maintenance"]})
    state, tasks = client.wait_for_run(second, timeout_s=300)
    assert state == "success" and first_try_succeeded(client, second), tasks

    assert client.call("GET", f"/dags/maintenance/dagRuns/{first}").status_code == 404
    assert not (logs / f"run_id={first}").exists()
    assert second in run_ids(client, "maintenance") and (logs / f"run_id={second}").is_dir()
    for dag_id, before in others.items():
        assert before <= run_ids(client, dag_id), dag_id
    log = client.call("GET", f"/dags/maintenance/dagRuns/{second}/taskInstances/remove_old_task_logs/logs/1").text
    assert "removed" in log and f"maintenance/{first}" in log, log[-2000:]

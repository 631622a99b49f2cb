"""Running the stack's DAGs from a test through Airflow's API."""

from __future__ import annotations

from realtime_platform.local.airflow_client import AirflowClient


def ready_client(cfg, dag_id: str) -> AirflowClient:
    """A client of `dag_id` once Airflow knows the DAG, no run of it is active (e.g. one the scheduler
    or an asset just started) and it is unpaused."""
    client = AirflowClient(cfg, dag_id)
    client.wait_until_known()
    client.wait_idle()
    client.set_paused(False)
    return client


def run_dag(cfg, dag_id: str) -> None:
    """One manual run of `dag_id`, which must succeed."""
    client = ready_client(cfg, dag_id)
    state, tasks = client.wait_for_run(client.trigger())
    assert state == "success", f"{dag_id}: {tasks}"
    client.wait_idle()


def first_try_succeeded(client: AirflowClient, run_id: str) -> bool:
    """No retry hid a failure: every task of the run succeeded at its first try."""
    tasks = client.call("GET", f"/dags/{client.dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    return all(t["state"] == "success" and t["try_number"] == 1 for t in tasks)

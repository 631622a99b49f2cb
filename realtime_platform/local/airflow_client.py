"""A small client of Airflow 3's REST API (/api/v2) for one DAG: pause, trigger, wait."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import requests

from realtime_platform.config import PlatformSettings
from realtime_platform.local.services import airflow as af
from realtime_platform.local.state_files import secret


class AirflowError(RuntimeError):
    pass


class AirflowClient:
    def __init__(self, cfg: PlatformSettings, dag_id: str):
        self.url = cfg.airflow.url
        self.dag_id = dag_id
        self.password = secret(cfg, "AIRFLOW_ADMIN_PASSWORD")
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            response = requests.post(f"{self.url}/auth/token", timeout=30,
                                     json={"username": af.ADMIN_USER, "password": self.password})
            if response.status_code not in (200, 201):
                raise AirflowError(f"login to {self.url} failed: {response.status_code} {response.text}")
            self._token = response.json()["access_token"]
        return self._token

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}/api/v2{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token()}", **(headers or {})}, **kwargs)

    def _ok(self, response: requests.Response) -> dict:
        if not response.ok:
            raise AirflowError(f"{response.request.method} {response.url}: {response.status_code} {response.text}")
        return response.json()

    def wait_until_known(self, timeout_s: float = 300) -> None:
        """The dag-processor may not have parsed the DAG yet right after Airflow starts."""
        deadline = time.monotonic() + timeout_s
        while not self.call("GET", f"/dags/{self.dag_id}").ok:
            if time.monotonic() > deadline:
                raise AirflowError(f"DAG {self.dag_id} not known to Airflow after {timeout_s:.0f}s")
            time.sleep(3)

    def task_ids(self) -> set[str]:
        return {t["task_id"] for t in self._ok(self.call("GET", f"/dags/{self.dag_id}/tasks"))["tasks"]}

    def reparse(self) -> None:
        """Asks the dag-processor to parse the DAG's file now, not at its next interval."""
        token = self._ok(self.call("GET", f"/dags/{self.dag_id}/details"))["file_token"]
        response = self.call("PUT", f"/parseDagFile/{token}")
        if response.status_code not in (200, 201):
            raise AirflowError(f"reparse of {self.dag_id} refused: {response.status_code} {response.text}")

    def wait_for_task_ids(self, condition: Callable[[set[str]], bool], what: str,
                          timeout_s: float = 300) -> set[str]:
        """Reparses the DAG and waits until its task ids satisfy `condition` (e.g. after a
        view or manifest was added to or removed from the DAG folder)."""
        self.reparse()
        deadline = time.monotonic() + timeout_s
        while not condition(task_ids := self.task_ids()):
            if time.monotonic() > deadline:
                raise AirflowError(f"{self.dag_id}: {what} not seen after {timeout_s:.0f}s; tasks {sorted(task_ids)}")
            time.sleep(3)
        return task_ids

    def is_paused(self) -> bool:
        return self._ok(self.call("GET", f"/dags/{self.dag_id}"))["is_paused"]

    def return_value(self, run_id: str, task_id: str):
        """What the task returned (its `return_value` XCom), as JSON."""
        entry = self._ok(self.call(
            "GET", f"/dags/{self.dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"))
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def set_paused(self, paused: bool) -> None:
        result = self._ok(self.call("PATCH", f"/dags/{self.dag_id}", json={"is_paused": paused}))
        if result["is_paused"] is not paused:
            raise AirflowError(f"{self.dag_id}: is_paused is {result['is_paused']}, wanted {paused}")

    @contextlib.contextmanager
    def paused(self):
        """`airflow dags|tasks test` create runs in the metadata database: while the DAG is not
        paused, the running scheduler would run their tasks as well (and collide)."""
        self.wait_idle()
        self.set_paused(True)
        try:
            yield
        finally:
            self.set_paused(False)

    def active_runs(self) -> list[dict]:
        return self._ok(self.call("GET", f"/dags/{self.dag_id}/dagRuns",
                                  params={"state": ["queued", "running"]}))["dag_runs"]

    def wait_idle(self, timeout_s: float = 900) -> None:
        """No run of the DAG in progress (e.g. the scheduled one right after Airflow started)."""
        deadline = time.monotonic() + timeout_s
        while self.active_runs():
            if time.monotonic() > deadline:
                raise AirflowError(f"{self.dag_id} still running after {timeout_s:.0f}s")
            time.sleep(5)

    def trigger(self, run_id: str | None = None, with_logical_date: bool = True,
                conf: dict | None = None) -> str:
        """Starts a run; without a logical date like an API client that sends `null` (Airflow 3).
        `conf` sets the run's params."""
        run_id = run_id or f"manual_{uuid.uuid4().hex[:8]}"
        logical_date = datetime.now(UTC).isoformat() if with_logical_date else None
        body = {"dag_run_id": run_id, "logical_date": logical_date, **({"conf": conf} if conf else {})}
        self._ok(self.call("POST", f"/dags/{self.dag_id}/dagRuns", json=body))
        return run_id

    def wait_for_run_consuming(self, source_dag_id: str, source_run_id: str,
                               timeout_s: float = 600) -> str:
        """The id of this DAG's asset-triggered run that consumed an asset event of
        `source_dag_id`'s run `source_run_id`. (Its run_after can be older than that run: events
        that arrive while a run is queued are consumed by it.)"""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = self._ok(self.call("GET", f"/dags/{self.dag_id}/dagRuns", params={
                "run_type": ["asset_triggered"], "order_by": "-id", "limit": 10}))["dag_runs"]
            for run in runs:
                events = self._ok(self.call(
                    "GET", f"/dags/{self.dag_id}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents"))
                if any(e.get("source_dag_id") == source_dag_id and e.get("source_run_id") == source_run_id
                       for e in events["asset_events"]):
                    return run["dag_run_id"]
            if time.monotonic() > deadline:
                raise AirflowError(f"no run of {self.dag_id} consumed an asset event of {source_dag_id} "
                                   f"run {source_run_id} after {timeout_s:.0f}s")
            time.sleep(3)

    def wait_for_run(self, run_id: str, timeout_s: float = 900) -> tuple[str, dict[str, str]]:
        """(final state, task_id -> state) once the run succeeded or failed."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self._ok(self.call("GET", f"/dags/{self.dag_id}/dagRuns/{run_id}"))["state"]
            if state in ("success", "failed"):
                break
            if time.monotonic() > deadline:
                raise AirflowError(f"run {run_id} still {state} after {timeout_s:.0f}s")
            time.sleep(3)
        tasks = self._ok(self.call("GET", f"/dags/{self.dag_id}/dagRuns/{run_id}/taskInstances"))
        return state, {t["task_id"]: t["state"] for t in tasks["task_instances"]}

"""realtime_platform.local.airflow_client against scripted answers of Airflow's REST API."""

from __future__ import annotations

import json

import pytest
import requests

from realtime_platform.local import airflow_client
from realtime_platform.local.airflow_client import AirflowClient, AirflowError

RUNS = {"dag_runs": [{"dag_run_id": "asset_triggered__b"}, {"dag_run_id": "asset_triggered__a"}]}


def answer(path: str, status: int, body) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, json.dumps(body).encode()
    response.request = requests.Request("GET", f"http://airflow/api/v2{path}").prepare()
    response.url = response.request.url
    return response


def client_answering(monkeypatch, events: dict[str, list[tuple[int, dict]]]) -> AirflowClient:
    """A client of DAG `followed` whose upstreamAssetEvents calls answer, per run, in turn."""
    client = AirflowClient.__new__(AirflowClient)
    client.dag_id = "followed"

    def call(method, path, **kwargs):
        if path.endswith("/dagRuns"):
            return answer(path, 200, RUNS)
        run_id = path.split("/")[-2]
        script = events[run_id]
        status, body = script.pop(0) if len(script) > 1 else script[0]
        return answer(path, status, body)

    monkeypatch.setattr(client, "call", call)
    monkeypatch.setattr(airflow_client.time, "sleep", lambda s: None)
    return client


def consumed(source_run_id: str) -> dict:
    return {"asset_events": [{"source_dag_id": "source", "source_run_id": source_run_id}]}


def test_the_run_that_consumed_the_event_is_found_among_others(monkeypatch):
    client = client_answering(monkeypatch, {
        "asset_triggered__b": [(200, {"asset_events": []}), (200, consumed("run-1"))],
        "asset_triggered__a": [(200, consumed("run-0"))]})
    assert client.wait_for_run_consuming("source", "run-1", timeout_s=60) == "asset_triggered__b"


def test_no_consuming_run_is_named_when_the_wait_ends(monkeypatch):
    client = client_answering(monkeypatch, {
        "asset_triggered__b": [(200, consumed("run-0"))], "asset_triggered__a": [(200, consumed("run-0"))]})
    with pytest.raises(AirflowError, match="no run of followed consumed an asset event of source run run-1"):
        client.wait_for_run_consuming("source", "run-1", timeout_s=0)


def test_an_error_answer_fails_at_once(monkeypatch):
    client = client_answering(monkeypatch, {
        "asset_triggered__b": [(500, {"detail": "Internal Server Error"})], "asset_triggered__a": [(200, consumed("run-1"))]})
    with pytest.raises(AirflowError, match="500"):
        client.wait_for_run_consuming("source", "run-1", timeout_s=60)

"""The datahub_ingestion DAG: one task per recipe, asset-scheduled after the views, thin at parse
time (no DataHub import), and a failing recipe fails its task."""

from __future__ import annotations

import pytest

from realtime_platform.catalog import recipes
from tests.dags.conftest import parse_dags  # noqa: F401 - fixture


def test_one_task_per_recipe(parse_dags):
    dag = parse_dags["dags"]["datahub_ingestion"]
    assert sorted(dag["tasks"]) == sorted(recipes.recipe_names())
    assert all(task["retries"] >= 1 for task in dag["tasks"].values())


def test_settings(parse_dags):
    dag = parse_dags["dags"]["datahub_ingestion"]
    assert "hive.summaries.orders_patterns" in dag["schedule"]  # after tsum_summaries stored them
    assert dag["start_date"].startswith("2026-01-01T00:00:00")
    assert dag["catchup"] is False
    assert "datahub" in dag["tags"]


def test_parsing_does_not_import_datahub(parse_dags):
    loaded = {m.split(".")[0] for m in parse_dags["modules"]}
    assert "datahub" not in loaded


def test_failing_recipe_raises_with_datahub_report(monkeypatch, tmp_path):
    from realtime_platform.catalog import runner

    env = {"TRINO_URL": "http://127.0.0.1:9", "DATAHUB_STATE_DIR": str(tmp_path),
           "AWS_REGION": "us-east-1"}
    with pytest.raises(runner.RecipeFailed, match=r"(?s)trino_pinot.*Source \(trino\) report"):
        runner.run_recipe("trino_pinot", env)

"""Every DAG in dags/ parses cleanly, cheaply and without network or secrets, and carries the
settings every DAG must have (tags, retries, a schedule, a fixed start date)."""

from __future__ import annotations

import pytest

from realtime_platform.airflow.views import VIEWS_DIR

# Modules a DAG file must not pull in at parse time (Airflow itself loads none of them).
HEAVY = ("pandas", "numpy", "polars", "pyarrow", "dask", "distributed", "trino", "psycopg2",
         "psycopg", "asyncpg", "requests", "boto3", "botocore", "tsum")
MAX_PARSE_S = 2.0  # per file, Airflow's own imports excluded (dagbag_import_timeout is 30 s)


def test_every_dag_imports_without_errors(parse_dags):
    assert parse_dags["import_errors"] == {}
    assert "create_views" in parse_dags["dags"]


@pytest.mark.parametrize("setting", ["tags", "schedule", "start_date"])
def test_every_dag_has(parse_dags, setting):
    for dag_id, dag in parse_dags["dags"].items():
        assert dag[setting], f"{dag_id} has no {setting}"


def test_every_task_retries(parse_dags):
    for dag_id, dag in parse_dags["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, f"{dag_id}.{task_id} has no retries"


def test_parsing_is_cheap(parse_dags):
    slow = {f: s for f, s in parse_dags["file_parse_s"].items() if s > MAX_PARSE_S}
    assert not slow, f"DAG files slower to parse than {MAX_PARSE_S}s: {slow}"


def test_parsing_imports_no_heavy_module(parse_dags):
    loaded = {m.split(".")[0] for m in parse_dags["modules"]}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_create_views_settings(parse_dags):
    dag = parse_dags["dags"]["create_views"]
    assert dag["schedule"] == "@daily"
    assert dag["start_date"].startswith("2026-01-01T00:00:00")
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1


def test_create_views_has_one_trino_task_per_sql_file(parse_dags):
    tasks = parse_dags["dags"]["create_views"]["tasks"]
    files = sorted(p.stem for p in VIEWS_DIR.glob("*.sql"))
    assert sorted(t for t, info in tasks.items() if info["type"] == "SQLExecuteQueryOperator") == files
    for name in files:
        task = tasks[name]
        assert task["conn_id"] == "trino_default"
        assert task["sql"] == f"sql/views/{name}.sql" or "CREATE" in task["sql"].upper()
        # every result is read, so a statement failing late in Trino fails the task
        assert task["handler"] == "fetch_all_handler"
        assert task["requires_result_fetch"] or task["do_xcom_push"]
        assert task["split_statements"] is True
        # while a compaction rebuilds a stream's Pinot table, the view reads its stand-in
        assert task["pre_execute"] == "stand_in_hook"


def test_create_views_dependencies_follow_the_sql(parse_dags):
    tasks = parse_dags["dags"]["create_views"]["tasks"]
    assert tasks["orders_by_day"]["upstream"] == ["orders"]
    assert tasks["orders"]["upstream"] == []
    expected_checks = sorted(name for name in ("orders", "person") if name in tasks)
    assert tasks["data_quality"]["upstream"] == expected_checks

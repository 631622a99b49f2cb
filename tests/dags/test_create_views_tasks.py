"""The create_views tasks against a fake Trino: a statement Trino fails fails the task, also when
Trino reports the failure only after the first rows (which an unread result would hide)."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from tests.dags.conftest import DAGS
from tests.dags.fake_trino import Answer, FakeTrino, ok_ddl

DS = "2026-11-27"


@pytest.fixture(scope="module")
def dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["create_views"]


RUN_AFTER = datetime(2026, 11, 27, 3, 4, 5, tzinfo=timezone.utc)  # the run date is DS


def context(dag, try_number: int = 1) -> dict:
    from airflow.sdk.execution_time import macros

    # No "ds": runs started through the API or by an asset event have no logical date.
    return {"params": {k: dag.params[k] for k in dag.params}, "macros": macros,
            "dag_run": SimpleNamespace(run_after=RUN_AFTER), "ti": SimpleNamespace(try_number=try_number)}


def rendered(dag, task_id: str, try_number: int = 1):
    task = copy.deepcopy(dag.get_task(task_id))  # rendering replaces the template in place
    task.render_template_fields(context(dag, try_number))
    return task


@pytest.fixture
def trino(monkeypatch):
    """A fake Trino whose answers a test sets with `trino.answers[<text in the SQL>] = Answer(...)`."""
    answers: dict[str, Answer] = {}

    def respond(sql: str) -> Answer:
        for needle, answer in answers.items():
            if needle in sql:
                return answer
        return ok_ddl()

    with FakeTrino(respond) as fake:
        fake.answers = answers
        monkeypatch.setenv("AIRFLOW_CONN_TRINO_DEFAULT",
                           f"trino://platform@127.0.0.1:{fake.port}/?catalog=hive&protocol=http")
        yield fake


def test_orders_view_renders_the_window_before_the_logical_date(dag):
    sql = rendered(dag, "orders").sql
    assert "CREATE OR REPLACE VIEW hive.views.orders" in sql
    assert "FROM pinot.default.orders" in sql
    assert "deleted = false" in sql
    assert "created_at >= CAST(to_unixtime(TIMESTAMP '2025-11-27 00:00:00 UTC')" in sql
    assert "created_at < CAST(to_unixtime(TIMESTAMP '2026-11-27 00:00:00 UTC')" in sql


def test_report_renders_with_the_bucket(dag):
    sql = rendered(dag, "orders_by_day").sql
    assert "location = 's3://realtime-platform/reports/'" in sql
    assert "DROP TABLE" not in sql  # the refresh never leaves readers without a report


def test_report_writes_a_new_version_per_try_then_swaps_the_view(dag):
    first = rendered(dag, "orders_by_day", try_number=1).sql
    assert "CREATE TABLE hive.reports.orders_by_day__20261127t030405_1" in first
    assert ("CREATE OR REPLACE VIEW hive.reports.orders_by_day AS SELECT * FROM "
            "hive.reports.orders_by_day__20261127t030405_1") in first
    # A retry after a killed CTAS may find the first try's files: it writes elsewhere.
    assert "orders_by_day__20261127t030405_2" in rendered(dag, "orders_by_day", try_number=2).sql


def test_view_task_succeeds_when_trino_does(dag, trino):
    rendered(dag, "orders").execute(context(dag))
    assert len(trino.statements) == 1 and "hive.views.orders" in trino.statements[0]


def test_report_runs_its_statements_in_order(dag, trino):
    trino.answers["CREATE TABLE hive.reports"] = Answer(columns=[("rows", "bigint")], rows=[[42]])
    rendered(dag, "orders_by_day").execute(context(dag))
    kinds = [" ".join(s.split()[:3]).upper() for s in trino.statements]
    assert kinds == ["CREATE SCHEMA IF", "CREATE TABLE HIVE.REPORTS.ORDERS_BY_DAY__20261127T030405_1",
                     "CREATE OR REPLACE"]


def test_failed_report_table_leaves_the_view_alone(dag, trino):
    trino.answers["CREATE TABLE hive.reports"] = Answer(error="Query killed: Trino went away")
    with pytest.raises(Exception, match="Trino went away"):
        rendered(dag, "orders_by_day").execute(context(dag))
    assert not [s for s in trino.statements if "REPLACE VIEW" in s.upper()]


def test_bad_ddl_statement_fails_the_task(dag, trino):
    trino.answers["CREATE OR REPLACE VIEW hive.views.orders"] = Answer(
        error="line 9:5: Column 'no_such_column' cannot be resolved")
    with pytest.raises(Exception, match="no_such_column"):
        rendered(dag, "orders").execute(context(dag))


def test_failure_after_the_first_rows_fails_the_task(dag, trino):
    # Seen on the local stack: the CTAS returns its row count, then fails while committing.
    trino.answers["CREATE TABLE hive.reports"] = Answer(
        columns=[("rows", "bigint")], rows=[[1]], fail_after_first_page=True,
        error="Failed updating column statistics for reports.orders_by_day")
    with pytest.raises(Exception, match="Failed updating column statistics"):
        rendered(dag, "orders_by_day").execute(context(dag))


def test_without_reading_results_the_same_failure_would_pass(airflow_home, trino):
    """Why the tasks fetch: an operator that does not read results reports success."""
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

    trino.answers["SELECT"] = Answer(columns=[("x", "bigint")], rows=[[1]], fail_after_first_page=True,
                                     error="Division by zero")
    unread = SQLExecuteQueryOperator(task_id="unread", conn_id="trino_default",
                                     sql="SELECT 1 / x FROM t", do_xcom_push=False)
    unread.execute({})  # no exception: the failure is never seen
    read = SQLExecuteQueryOperator(task_id="read", conn_id="trino_default", sql="SELECT 1 / x FROM t",
                                   do_xcom_push=False, requires_result_fetch=True)
    with pytest.raises(Exception, match="Division by zero"):
        read.execute({})

"""create_views: the Trino views and report tables of dags/sql/views/, rebuilt every day.

One task per `dags/sql/views/<name>.sql`, run on Trino (`trino_default`); a file that reads
`hive.views.<other>` runs after `<other>`. Then `data_quality` checks that the views hold exactly
the rows of their PostgreSQL tables (`postgres_app`). The logic lives in realtime_platform.airflow;
this file only wires it (it is parsed often: no network, no heavy imports).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.common.sql.hooks.handlers import fetch_all_handler
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, Asset, task
from jinja2 import StrictUndefined

from realtime_platform.airflow import quality
from realtime_platform.airflow.compaction import stand_in_hook
from realtime_platform.airflow.run_date import run_date
from realtime_platform.airflow.views import build_order, discover
from realtime_platform.config import DEFAULT_S3_BUCKET, POSTGRES_CONN_ID, TRINO_CONN_ID
from realtime_platform.layout import VIEWS_IN_DAG_FOLDER

DAG_FOLDER = Path(__file__).resolve().parent

with DAG(
    dag_id="create_views",
    description="Trino views and report tables from dags/sql/views, reconciled with PostgreSQL",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one refresh of each report at a time
    # One task at a time: orders_by_day and data_quality each keep every core busy (Trino scans the
    # views, PostgreSQL its tables). Run together on two cores, each took as long as both one after
    # the other (docs/dag-scale.md).
    max_active_tasks=1,
    dagrun_timeout=timedelta(hours=1),
    tags=["trino", "views", "reports", "data-quality"],
    default_args={"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "s3_bucket": os.environ.get("S3_BUCKET", DEFAULT_S3_BUCKET),
        "orders_window_days": quality.ORDERS_WINDOW_DAYS,
    },
    template_undefined=StrictUndefined,  # a missing value fails the render, not the SQL
    user_defined_macros={"run_date": run_date},  # {{ run_date(dag_run) }}: runs may lack a logical date
) as dag:
    views = {}
    for view in build_order(discover(DAG_FOLDER / VIEWS_IN_DAG_FOLDER)):
        views[view.name] = SQLExecuteQueryOperator(
            task_id=view.name,
            conn_id=TRINO_CONN_ID,
            sql=view.template_path(DAG_FOLDER),
            split_statements=True,
            # Fetch every result: the trino client reports some failures only while results are
            # read, so an unread statement could fail in Trino and still pass here.
            handler=fetch_all_handler,
            requires_result_fetch=True,
            do_xcom_push=False,
            # downstream DAGs (e.g. tsum_summaries) run when a view they read is rebuilt
            outlets=[Asset(f"hive.views.{view.name}")],
            # While a compaction rebuilds a stream's Pinot table, its view reads the stand-in.
            pre_execute=stand_in_hook,
        )
        for upstream in sorted(view.depends_on):
            views[upstream] >> views[view.name]

    # It re-checks a mismatch itself for a while (CDC lag): one task retry is enough.
    @task(task_id="data_quality", retries=1)
    def data_quality(dag_run=None) -> dict:
        """The views hold exactly the rows of their PostgreSQL tables: keys and every shared column's value."""
        return quality.check_views(run_date(dag_run), postgres_conn_id=POSTGRES_CONN_ID,
                                   trino_conn_id=TRINO_CONN_ID)

    checks = data_quality()
    for name in quality.checked_views():
        if name in views:
            views[name] >> checks

    @task(task_id="prune_reports")
    def prune_reports() -> dict:
        """Drops report versions no view reads any more (the one before the current is kept)."""
        from airflow.providers.trino.hooks.trino import TrinoHook

        from realtime_platform.airflow.reports import prune_reports as prune

        hook = TrinoHook(trino_conn_id=TRINO_CONN_ID)
        return prune(lambda sql: hook.get_records(sql) or [])

    pruned = prune_reports()
    for view_task in views.values():
        view_task >> pruned

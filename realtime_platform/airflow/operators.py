"""Airflow operators of the platform."""

from __future__ import annotations

import os
from collections.abc import Sequence

from airflow.models import BaseOperator

from realtime_platform.airflow.run_date import run_date as run_date_of
from realtime_platform.airflow.tsum_summary import SummarySpec, summarize_view
from realtime_platform.config import TRINO_CONN_ID


class TSumSummaryOperator(BaseOperator):
    """Summarizes a Trino view with TSum and stores the patterns in hive.summaries.<view>_patterns
    for the run's date (re-running a date replaces its rows).

    Trino does the scan: the task fetches the view's distinct rows with their counts (a GROUP BY,
    pushed into Pinot for Pinot views), split into `partitions` ranges of `partition_column` that
    Dask fetches in parallel: on the cluster at `dask_scheduler` (default: the environment's
    DASK_SCHEDULER_ADDRESS, read when the task runs), else on threads inside the task.

    The date is the run date of realtime_platform.airflow.run_date (the logical date, or the day
    the run was due: runs started by an asset event have no logical date in Airflow 3), unless
    `run_date` is given."""

    template_fields = ("run_date", "bucket")

    def __init__(self, *, view: str, columns: Sequence[str], partition_column: str, partitions: int = 4,
                 trino_conn_id: str = TRINO_CONN_ID, run_date: str | None = None,
                 bucket: str = "{{ params.s3_bucket }}", dask_scheduler: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.spec = SummarySpec(view, tuple(columns), partition_column, partitions)
        self.trino_conn_id = trino_conn_id
        self.run_date = run_date
        self.bucket = bucket
        self.dask_scheduler = dask_scheduler

    def execute(self, context):
        from airflow.providers.common.sql.hooks.handlers import fetch_all_handler
        from airflow.providers.trino.hooks.trino import TrinoHook

        conn_id = self.trino_conn_id  # not `self`: on a Dask cluster this function is shipped to the workers

        def run_sql(statements: Sequence[str]) -> list[list[tuple]]:
            # One connection, so a SET SESSION holds for the statements after it; every result is
            # fetched, so a failure reported while reading results fails the task.
            results = TrinoHook(trino_conn_id=conn_id).run(
                list(statements), handler=fetch_all_handler, return_last=False)
            return [list(rows or []) for rows in results or [[] for _ in statements]]

        day = self.run_date or run_date_of(context["dag_run"])
        scheduler = self.dask_scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        report = summarize_view(self.spec, day, self.bucket, run_sql, scheduler)
        self.log.info("%s: %d rows (%d distinct, %d grouped queries on %s), %d patterns, %.1f%% uncovered -> %s "
                      "in %.1fs", report["view"], report["rows"], report["distinct_rows"], report["grouped_queries"],
                      f"the Dask cluster at {scheduler}" if scheduler else "threads",
                      len(report["patterns"]), report["uncovered_share"], report["table"], report["seconds"])
        for pattern in report["patterns"]:
            self.log.info("  %s", pattern)
        return report

"""Airflow operators of the platform."""

from __future__ import annotations

from collections.abc import Sequence

from airflow.models import BaseOperator

from realtime_platform.airflow.run_date import run_date as run_date_of
from realtime_platform.airflow.tsum_summary import SummarySpec, summarize_view


class TSumSummaryOperator(BaseOperator):
    """Summarizes a Trino view with TSum and stores the patterns in hive.summaries.<view>_patterns
    for the run's date (re-running a date replaces its rows).

    The date is the run date of realtime_platform.airflow.run_date (the logical date, or the day
    the run was due: runs started by an asset event have no logical date in Airflow 3), unless
    `run_date` is given."""

    template_fields = ("run_date", "bucket")

    def __init__(self, *, view: str, columns: Sequence[str], partition_column: str, partitions: int = 4,
                 trino_conn_id: str = "trino_default", run_date: str | None = None,
                 bucket: str = "{{ params.s3_bucket }}", **kwargs):
        super().__init__(**kwargs)
        self.spec = SummarySpec(view, tuple(columns), partition_column, partitions)
        self.trino_conn_id = trino_conn_id
        self.run_date = run_date
        self.bucket = bucket

    def execute(self, context):
        from airflow.providers.common.sql.hooks.handlers import fetch_all_handler
        from airflow.providers.trino.hooks.trino import TrinoHook

        def run_sql(sql: str) -> list[tuple]:
            # fetch every result so a failure reported while reading results fails the task
            return TrinoHook(trino_conn_id=self.trino_conn_id).run(sql, handler=fetch_all_handler) or []

        def read_partition(sql: str, columns: Sequence[str]):
            import pandas as pd

            rows = TrinoHook(trino_conn_id=self.trino_conn_id).get_records(sql)
            return pd.DataFrame.from_records(rows, columns=list(columns))

        day = self.run_date or run_date_of(context["dag_run"])
        report = summarize_view(self.spec, day, self.bucket, run_sql, read_partition)
        self.log.info("%s: %d rows, %d patterns, %.1f%% uncovered -> %s", report["view"], report["rows"],
                      len(report["patterns"]), report["uncovered_share"], report["table"])
        for pattern in report["patterns"]:
            self.log.info("  %s", pattern)
        return report

"""tsum_summaries: TSum patterns of the views, computed after create_views has rebuilt them.

Triggered by the `hive.views.orders` asset that create_views' `orders` task updates. The logic
lives in realtime_platform.airflow (operators, tsum_summary); this file only wires it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Asset

from realtime_platform.airflow.operators import TSumSummaryOperator
from realtime_platform.config import DEFAULT_S3_BUCKET

ORDERS_VIEW = Asset("hive.views.orders")  # updated by create_views' orders task

with DAG(
    dag_id="tsum_summaries",
    description="TSum table summaries of the Trino views, stored in hive.summaries",
    doc_md=__doc__,
    schedule=[ORDERS_VIEW],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["tsum", "summaries", "trino"],
    default_args={"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={"s3_bucket": os.environ.get("S3_BUCKET", DEFAULT_S3_BUCKET)},
):
    TSumSummaryOperator(
        task_id="summarize_orders",
        view="hive.views.orders",
        columns=["status", "channel", "country"],
        partition_column="order_id",
        partitions=4,
        outlets=[Asset("hive.summaries.orders_patterns")],  # triggers datahub_ingestion
    )

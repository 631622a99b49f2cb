"""tsum_summaries: TSum patterns of the views, computed after create_views has rebuilt them.

One task per stream whose manifest has `summarize:` (dags/sql/views/<name>.yml, read by
realtime_platform/streams.py), triggered when create_views updates any of those views' assets.
The logic lives in realtime_platform.airflow (operators, tsum_summary); this file only wires it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, Asset

from realtime_platform.airflow.operators import TSumSummaryOperator
from realtime_platform.config import DEFAULT_S3_BUCKET
from realtime_platform.streams import streams

SUMMARIZED = [(s, s.summarize) for s in streams() if s.summarize]

with DAG(
    dag_id="tsum_summaries",
    description="TSum table summaries of the Trino views, stored in hive.summaries",
    doc_md=__doc__,
    # Every summarized view's asset (create_views' view tasks update them all on each run): one
    # run once they are all rebuilt.
    schedule=[Asset(s.view) for s, _ in SUMMARIZED],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["tsum", "summaries", "trino"],
    default_args={"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={"s3_bucket": os.environ.get("S3_BUCKET", DEFAULT_S3_BUCKET)},
):
    for stream, summarize in SUMMARIZED:
        TSumSummaryOperator(
            task_id=f"summarize_{stream.name}",
            view=stream.view,
            columns=summarize.columns,
            partition_column=summarize.partition_column,
            partitions=summarize.partitions,
            outlets=[Asset(stream.patterns_table)],  # triggers datahub_ingestion
        )

"""task_overhead: one task that does nothing, so its duration is what every task pays around its own
work: the task runner's start and end, and DataHub's lineage listener (its `on_task_instance_*`
calls). Hourly, so the Airflow UI's task duration chart shows that overhead over time;
`benchmarks/task_overhead.py` triggers it in a row and prints the p50 and p95.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

with DAG(
    dag_id="task_overhead",
    description="A no-op task: the overhead every task pays (runner, lineage listener)",
    doc_md=__doc__,
    schedule=timedelta(hours=1),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["maintenance", "benchmark"],
    default_args={"owner": "platform", "retries": 1, "retry_delay": timedelta(seconds=30)},
):

    @task(task_id="noop")
    def noop() -> None:
        """Nothing: the task's duration is all overhead."""

    noop()

"""compact_streams: rebuilds a stream's Pinot table from its live rows once history fills it.

Pinot 0.11 keeps every key and every version an upsert table has seen (#23). Daily, a table whose
dead share (superseded versions and deleted keys, of all its documents) passes `dead_share` and that
holds at least `min_documents` is rebuilt: a stand-in serves the view while the table is built again
from a Debezium incremental snapshot, and readers see no gap. `streams` limits the run to some
streams. The logic is realtime_platform.compaction; `platformctl stream compact <name>` does the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

from realtime_platform.config import environment_setting

with DAG(
    dag_id="compact_streams",
    description="Pinot tables rebuilt from their live rows when most of what they hold is history",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["pinot", "maintenance", "capacity"],
    # A compaction that stopped half-way starts again from what Pinot and the view show.
    default_args={"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    # The platform's settings reach the DAG as environment (config.service_environment).
    params={"dead_share": float(environment_setting("PINOT_COMPACT_DEAD_SHARE")),
            "min_documents": int(environment_setting("PINOT_COMPACT_MIN_DOCUMENTS")),
            "streams": []},
):
    @task(task_id="compact", execution_timeout=timedelta(hours=3))
    def compact(params=None) -> dict:
        """Compacts every stream past both thresholds; returns each one's counts before and after."""
        from realtime_platform.airflow.compaction import compact_due_streams

        return compact_due_streams(float(params["dead_share"]), int(params["min_documents"]),
                                   only=list(params["streams"] or []))

    compact()

"""cdc_health: fails loudly when the CDC path stalls.

Every 10 minutes: each logical replication slot's lag (WAL PostgreSQL keeps for it) against
`slot_lag_limit_bytes`, the state of every Kafka Connect connector and task, rows Pinot read but
failed to index, and each Pinot server's heap after GC against `pinot_heap_limit_share` of its
maximum (Pinot keeps every key ever written). A failure names the slot and its lag, the connector
and task, the Pinot table with the count and Pinot's error, or the server with its heap, keys and
the tables with the most dead rows. The logic is realtime_platform.cdc_health and
realtime_platform.pinot_capacity.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

from realtime_platform.config import POSTGRES_CONN_ID, environment_setting

with DAG(
    dag_id="cdc_health",
    description="Replication slot lag and connector states of the CDC path",
    doc_md=__doc__,
    schedule=timedelta(minutes=10),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["cdc", "health", "debezium"],
    # One quick retry: a connector restarting at that moment is not an alarm.
    default_args={"owner": "platform", "retries": 1, "retry_delay": timedelta(seconds=20)},
    # The platform's settings reach the DAG as environment (config.service_environment).
    params={"slot_lag_limit_bytes": int(environment_setting("SLOT_LAG_LIMIT_BYTES")),
            "pinot_heap_limit_share": float(environment_setting("PINOT_HEAP_LIMIT_SHARE"))},
):

    @task(task_id="check_cdc", execution_timeout=timedelta(minutes=2))
    def check_cdc(params=None) -> dict:
        """Raises CdcUnhealthy listing every slot past the limit and every connector not RUNNING."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from realtime_platform import cdc_health, pinot_capacity

        slots = cdc_health.slot_lags(PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
                                     .get_records(cdc_health.SLOT_LAG_SQL))
        from realtime_platform.streams import streams

        connectors = cdc_health.connector_states(os.environ["CONNECT_URL"])
        gaps = cdc_health.pinot_ingestion_gaps(os.environ["PINOT_CONTROLLER_URL"], os.environ["PINOT_BROKER_URL"],
                                               [s.name for s in streams()])
        heaps = pinot_capacity.server_heaps(os.environ["PINOT_SERVER_METRICS_URLS"].split(","))
        tables = [pinot_capacity.table_capacity(os.environ["PINOT_BROKER_URL"], s.name) for s in streams()]
        found = (cdc_health.problems(slots, connectors, int(params["slot_lag_limit_bytes"]))
                 + cdc_health.ingestion_problems(gaps)
                 + pinot_capacity.problems(heaps, tables, float(params["pinot_heap_limit_share"])))
        if found:
            raise cdc_health.CdcUnhealthy("; ".join(found))
        return {"slots": {s.name: s.lag_bytes for s in slots},
                "connectors": {c.name: c.state for c in connectors},
                "pinot_rows_not_indexed": {g.segment: g.not_indexed for g in gaps},
                "pinot_heap_share": {h.server: round(h.share, 3) for h in heaps},
                "pinot_dead_share": {t.table: round(t.dead_share, 3) for t in tables}}

    check_cdc()

"""A stalled CDC path fails loudly: with the person connector paused, writes pile up WAL in its
replication slot until `platformctl status` and the cdc_health DAG fail, naming the slot and its
lag; once the connector resumes, the slot drains and every row written meanwhile arrives in Trino.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests

from realtime_platform import cdc_health, pinot_capacity
from realtime_platform.trino_client import query
from tests.live.airflow_runs import ready_client
from tests.live.connectors import paused
from tests.live.polling import wait

pytestmark = pytest.mark.live

LIMIT = 1 << 20  # 1 MiB: the test's threshold (the default is 1 GiB)
ROWS = 30_000  # about 6 MiB of WAL
SLOT = "debezium_person"


def slot(cfg) -> cdc_health.SlotLag:
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        slots = cdc_health.slot_lags(conn.execute(cdc_health.SLOT_LAG_SQL).fetchall())
    return next(s for s in slots if s.name == SLOT)



def test_a_lagging_slot_fails_status_and_the_dag_then_recovers_with_no_row_lost(bootstrapped):
    cfg = bootstrapped
    client = ready_client(cfg, "cdc_health")
    with paused(cfg.connect.url, "person"):
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
            conn.execute("INSERT INTO person (customer_id, name) "
                         f"SELECT g % 100, 'slot lag ' || g FROM generate_series(1, {ROWS}) AS g")
        wait("slot lag past the limit", lambda: slot(cfg).lag_bytes > LIMIT, 60)

        status = subprocess.run([str(Path(sys.executable).parent / "platformctl"), "status"],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "SLOT_LAG_LIMIT_BYTES": str(LIMIT)})
        assert status.returncode != 0, status.stdout
        assert f"PROBLEM: replication slot {SLOT} holds" in status.stdout, status.stdout

        run_id = client.trigger(conf={"slot_lag_limit_bytes": LIMIT})
        state, tasks = client.wait_for_run(run_id, timeout_s=300)
        assert state == "failed" and tasks["check_cdc"] == "failed", tasks
        log = client.call("GET", f"/dags/cdc_health/dagRuns/{run_id}/taskInstances/check_cdc/logs/1").text
        assert SLOT in log and "MiB of WAL" in log, log[-3000:]

    wait("slot drained", lambda: slot(cfg).lag_bytes < LIMIT, 300)
    wait("every row in Trino", lambda: query(
        cfg, "SELECT count(*) FROM hive.views.person WHERE name LIKE 'slot lag %'")[0][0] == ROWS, 300)
    state, tasks = client.wait_for_run(client.trigger(conf={"slot_lag_limit_bytes": LIMIT}), timeout_s=300)
    assert state == "success", tasks
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        conn.execute("DELETE FROM person WHERE name LIKE 'slot lag %'")


@pytest.mark.parametrize("port_setting, expected", [
    ("kafka_metrics", "kafka_server_brokertopicmetrics_"),
    ("connect_metrics", "debezium_postgres_connector_metrics_millisecondsbehindsource"),
    ("connect_metrics", "kafka_connect_source_task_metrics_"),
])
def test_kafka_and_connect_export_prometheus_metrics(bootstrapped, port_setting, expected):
    port = getattr(bootstrapped.ports, port_setting)
    text = requests.get(f"{bootstrapped.endpoint(port).url}/metrics", timeout=10).text
    assert expected in text.lower(), text[:2000]


def platformctl(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "platformctl"), *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_pinot_capacity_is_read_from_pinot_and_a_full_heap_fails_status_and_the_dag(bootstrapped):
    cfg = bootstrapped
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        source_rows = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    # Pinot's live rows are the source's rows once the stream has caught up; its documents hold more.
    wait("Pinot's live orders equal PostgreSQL's",
         lambda: pinot_capacity.table_capacity(cfg.pinot_broker.url, "orders").live == source_rows, 120)
    orders = pinot_capacity.table_capacity(cfg.pinot_broker.url, "orders")
    assert orders.documents >= orders.keys >= orders.live == source_rows, orders
    [heap] = pinot_capacity.server_heaps(cfg.pinot_server_metrics_urls)
    assert heap.keys >= orders.keys and 0 < heap.used_after_gc < heap.max, heap

    metrics = platformctl("metrics")
    assert f'pinot_table_live_rows{{table="orders"}} {source_rows}' in metrics.stdout, metrics.stdout[-3000:]

    status = platformctl("status", PINOT_HEAP_LIMIT_SHARE="0.001")
    assert status.returncode != 0, status.stdout
    assert f"{'orders':<23}{orders.documents:>12,}" in status.stdout, status.stdout
    assert f"PROBLEM: Pinot server {heap.server} heap after GC is" in status.stdout, status.stdout

    client = ready_client(cfg, "cdc_health")
    run_id = client.trigger(conf={"pinot_heap_limit_share": 0.001})
    state, tasks = client.wait_for_run(run_id, timeout_s=300)
    assert state == "failed" and tasks["check_cdc"] == "failed", tasks
    log = client.call("GET", f"/dags/cdc_health/dagRuns/{run_id}/taskInstances/check_cdc/logs/1").text
    assert "heap after GC" in log and "raise PINOT_HEAP" in log, log[-3000:]

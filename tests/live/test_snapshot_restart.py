"""A connector restarted in the middle of its initial snapshot still delivers every row."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
import requests
from confluent_kafka import Consumer

from realtime_platform import polling
from realtime_platform.config import REPO_ROOT
from realtime_platform.stream_config import load_connector
from tests.live.polling import wait

pytestmark = pytest.mark.live

ROWS = 200_000


@pytest.fixture
def probe_table(bootstrapped):
    """A captured table big enough that its snapshot takes a while, and its own connector."""
    cfg = bootstrapped
    suffix = uuid.uuid4().hex[:6]
    table, connector = f"snapshot_probe_{suffix}", f"snapshot-probe-{suffix}"
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)")
        conn.execute(f"INSERT INTO {table} SELECT g, repeat('x', 200) FROM generate_series(1, {ROWS}) g")
        conn.execute(f"GRANT SELECT ON {table} TO {cfg.debezium_user}")
        conn.execute(f"CREATE PUBLICATION dbz_{suffix} FOR TABLE {table}")
    config = dict(load_connector(REPO_ROOT / "debezium" / "person.json").config)  # over the shared keys
    config.update({"table.include.list": f"public\\.{table}", "message.key.columns": f"public.{table}:id",
                   "slot.name": f"debezium_{suffix}", "publication.name": f"dbz_{suffix}",
                   "topic.prefix": f"probe_{suffix}", "snapshot.fetch.size": "2000"})
    config.pop("heartbeat.action.query")  # the probe's publication does not carry the heartbeat table
    yield cfg, table, connector, config
    requests.delete(f"{cfg.connect.url}/connectors/{connector}", timeout=30)
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        def released() -> bool:  # the slot stays active until the task has stopped
            row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                               (f"debezium_{suffix}",)).fetchone()
            return not (row or [False])[0]

        wait(f"slot debezium_{suffix} released", released, 30, every_s=1)
        conn.execute(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     f"WHERE slot_name = 'debezium_{suffix}' AND NOT active")
        conn.execute(f"DROP PUBLICATION IF EXISTS dbz_{suffix}")
        conn.execute(f"DROP TABLE {table}")


def distinct_keys(cfg, topic: str, expected: int, timeout_s: float) -> set[int]:
    consumer = Consumer({"bootstrap.servers": cfg.kafka_bootstrap, "group.id": f"probe-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    keys: set[int] = set()

    def read_all() -> bool:
        for message in consumer.consume(num_messages=5000, timeout=1):
            if message.error() is None and message.key():
                keys.add(json.loads(message.key())["payload"]["id"])
        return len(keys) >= expected

    try:
        polling.wait(f"{expected} distinct keys on {topic}", read_all, timeout_s, every_s=0)
    except TimeoutError:
        pass  # the caller compares what arrived with what was expected, and names the difference
    finally:
        consumer.close()
    return keys


def test_restart_mid_snapshot_delivers_every_row(probe_table):
    cfg, table, connector, config = probe_table
    response = requests.put(f"{cfg.connect.url}/connectors/{connector}/config", json=config, timeout=30)
    assert response.ok, response.text
    topic = table  # the connector's RegexRouter keeps only the table name

    # Wait until the snapshot has started writing (it takes about a minute here), then restart
    # the connector and its task: Debezium must redo the unfinished snapshot.
    wait("the snapshot writing", lambda: distinct_keys(cfg, topic, expected=1, timeout_s=3), 120, 0)
    restart = requests.post(f"{cfg.connect.url}/connectors/{connector}/restart",
                            params={"includeTasks": "true"}, timeout=30)
    assert restart.status_code in (200, 202, 204), restart.text

    keys = distinct_keys(cfg, topic, expected=ROWS, timeout_s=300)
    assert len(keys) == ROWS and keys == set(range(1, ROWS + 1))
    status = requests.get(f"{cfg.connect.url}/connectors/{connector}/status", timeout=30).json()
    assert status["connector"]["state"] == "RUNNING", status

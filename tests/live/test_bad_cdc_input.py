"""Poison events on a CDC topic: Pinot drops them and keeps ingesting the good events after them."""

from __future__ import annotations

import re

import pytest
import requests
from confluent_kafka import Producer

from realtime_platform.generator import run_counts
from realtime_platform.trino_client import query
from tests.live.polling import wait

pytestmark = pytest.mark.live

POISON = [
    b"this is not JSON",
    b'{"schema": {}, "no_payload": true}',
    # a well-formed envelope without any key: must not become a row keyed by null/MIN_VALUE
    b'{"payload": {"op": "c", "before": null, "after": null, "source": {"lsn": 1}, "ts_ms": 1}}',
]


def dropped_rows(cfg) -> float:
    """Pinot's count of rows it could not decode or transform, from its Prometheus endpoint, over
    the topic's partitions."""
    text = requests.get(f"{cfg.endpoint(cfg.ports.pinot_metrics).url}/metrics", timeout=10).text
    # one counter per Kafka partition (person_REALTIME-person-<partition>)
    counts = re.findall(r'servermetrics_count\{name="\\"pinot\.server\.person_REALTIME-person-\d+\.'
                        r'invalidRealtimeRowsDropped\\""\} (\S+)', text)
    return sum(map(float, counts))


def test_poison_events_do_not_stop_ingestion(bootstrapped):
    cfg = bootstrapped
    dropped_before = dropped_rows(cfg)
    producer = Producer({"bootstrap.servers": cfg.kafka_bootstrap})
    for value in POISON:
        producer.produce("person", key=b"poison", value=value)
    assert producer.flush(30) == 0

    report = run_counts(cfg.postgres_dsn(), inserts=5, updates=0, deletes=0, seed=555)
    ids = ",".join(str(i) for i, _ in report.live_keys)
    wait("the rows written after the poison events in the view",
         lambda: len(query(cfg, f"SELECT id FROM hive.views.person WHERE id IN ({ids})")) >= 5, 90, 1)
    keyless = query(cfg, "SELECT count(*) FROM pinot.default.person WHERE id < 0 OR customer_id < 0")[0][0]
    assert keyless == 0, "a keyless event became a row"
    # the undecodable ones are counted where a person (or Prometheus) can see them
    assert dropped_rows(cfg) >= dropped_before + 2

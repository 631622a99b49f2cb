"""Partitioned streams keep every key in one place.

Inserts, updates and deletes across many keys; then, read back from Kafka, every `orders` record
sits in the partition Kafka's murmur2 gives its key, and that key is the order id as a string
(what Pinot's Murmur partition function computes from the column). Each `person` key (composite)
stays in one partition. Pinot holds one row per key, and its broker, which prunes segments by
partition, finds every key by point lookup.
"""

from __future__ import annotations

import json
from collections import defaultdict

import psycopg
import pytest
import requests

from realtime_platform.partitioning import partition_of
from realtime_platform.trino_client import query
from tests.live.kafka_records import read_topic
from tests.live.polling import wait

pytestmark = pytest.mark.live

ROWS = 2000
MARK = "partition probe"  # the channel of this test's orders, the name prefix of its persons


def row_image(value: bytes) -> tuple[dict, dict] | None:
    """(change, its after-or-before row) of a Debezium change event; None for anything else on the
    topic (test_bad_cdc_input.py writes poison events there on purpose)."""
    try:
        change = json.loads(value)["payload"]
        image = change.get("after") or change.get("before")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return (change, image) if isinstance(image, dict) else None


def declared_partitions(cfg, table: str) -> int:
    config = requests.get(f"{cfg.pinot_controller.url}/tables/{table}", timeout=10).json()["REALTIME"]
    [spec] = config["tableIndexConfig"]["segmentPartitionConfig"]["columnPartitionMap"].values()
    return int(spec["numPartitions"])


def test_changes_of_one_key_stay_in_its_partition_and_pinot_finds_every_key(bootstrapped):
    cfg = bootstrapped
    partitions = declared_partitions(cfg, "orders")
    assert partitions > 1, "the streams are partitioned"
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("DELETE FROM orders WHERE channel = %s", (MARK,))
        pg.execute("DELETE FROM person WHERE name LIKE %s", (MARK + "%",))
        ids = [r[0] for r in pg.execute(
            "INSERT INTO orders (customer_id, status, channel, country, amount) "
            "SELECT g, 'new', %s, 'DE', g FROM generate_series(1, %s) AS g RETURNING order_id",
            (MARK, ROWS))]
        pg.execute("UPDATE orders SET status = 'paid' WHERE channel = %s AND order_id %% 2 = 0", (MARK,))
        pg.execute("DELETE FROM orders WHERE channel = %s AND order_id %% 5 = 0", (MARK,))
        pg.execute("INSERT INTO person (customer_id, name) SELECT g %% 13, %s || g FROM generate_series(1, 500) AS g",
                   (MARK + " ",))
        pg.execute("UPDATE person SET name = name || ' (updated)' WHERE name LIKE %s AND id %% 3 = 0", (MARK + "%",))
        expected = {r[0]: r[1] for r in pg.execute(
            "SELECT order_id, status FROM orders WHERE channel = %s", (MARK,))}

    wait("Pinot holds PostgreSQL's orders", lambda: dict(query(
        cfg, f"SELECT order_id, status FROM pinot.default.orders WHERE channel = '{MARK}' AND deleted = false"))
        == expected)

    # Kafka: each order's records in murmur2(str(order_id)) mod N, keyed by that string.
    probe_ids = set(ids)
    records = []
    for message in read_topic(cfg, "orders"):
        _, image = row_image(message.value()) or (None, {})
        order_id = image.get("order_id")
        if order_id in probe_ids:
            records.append((message.partition(), message.key(), order_id))
    assert len(records) >= ROWS + ROWS // 2 + ROWS // 5, len(records)  # inserts, updates, deletes
    misplaced = [(p, k) for p, k, _ in records if p != partition_of(k, partitions)]
    assert not misplaced, misplaced[:10]
    assert all(k.decode() == str(order_id) for _, k, order_id in records)
    assert len({p for p, _, _ in records}) == partitions, "the keys spread over every partition"

    # person's composite key: all changes of one key in one partition.
    where = defaultdict(set)
    for m in read_topic(cfg, "person"):
        change, image = row_image(m.value()) or (None, None)
        if image and (str(image.get("name", "")).startswith(MARK) or change.get("op") == "d"):
            where[(image["id"], image["customer_id"])].add(m.partition())
    assert where and all(len(p) == 1 for p in where.values()), {k: p for k, p in where.items() if len(p) > 1}

    # Pinot: one row per key, and the broker's partition pruning finds each key.
    duplicates = query(cfg, "SELECT order_id, count(*) FROM pinot.default.orders "
                            f"WHERE channel = '{MARK}' GROUP BY order_id HAVING count(*) > 1")
    assert duplicates == []
    broker = f"{cfg.pinot_broker.url}/query/sql"
    segments = len(requests.get(f"{cfg.pinot_controller.url}/tables/orders/idealstate", timeout=10)
                   .json()["REALTIME"])
    for order_id, status in list(expected.items())[::97]:
        answer = requests.post(broker, timeout=30, json={
            "sql": f"SELECT status FROM orders WHERE order_id = {order_id} AND deleted = false"}).json()
        assert not answer.get("exceptions"), answer["exceptions"]
        assert answer["resultTable"]["rows"] == [[status]], (order_id, answer["resultTable"])
        # pruned to the key's partition: not every segment was asked
        assert answer["numSegmentsQueried"] < segments, (order_id, answer["numSegmentsQueried"], segments)

    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("DELETE FROM orders WHERE channel = %s", (MARK,))
        pg.execute("DELETE FROM person WHERE name LIKE %s", (MARK + "%",))

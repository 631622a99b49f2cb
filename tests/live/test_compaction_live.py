"""Compaction by rebuild on the live stack (#23): the compact_streams DAG rebuilds Pinot's orders table
from its live rows while readers query hive.views.orders and a writer keeps changing other orders.

Readers must see no error, no gap and no duplicate: each read of a fixed set of orders (not touched
during the compaction) returns their exact count and sums. Afterwards the deleted keys and superseded
versions are gone from Pinot, the view reads the orders table again, no stand-in is left, and every
order the writer touched is in the view value for value."""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal

import psycopg
import pytest
import requests
from confluent_kafka.admin import AdminClient

from realtime_platform.compaction import reads, view_definition
from realtime_platform.pinot_capacity import table_capacity
from realtime_platform.trino_client import query
from tests.live.airflow_runs import first_try_succeeded, ready_client, run_dag
from tests.live.polling import wait

pytestmark = pytest.mark.live

READ, WRITE = "compaction-read", "compaction-write"  # the channel of the readers' and the writer's orders
INSERT = ("INSERT INTO orders (customer_id, status, channel, country, amount, created_at, updated_at) "
          "VALUES (%s, 'new', %s, 'NL', %s, now() - interval '2 days', now() - interval '2 days') RETURNING order_id")
COUNTS = "SELECT count(*), sum(order_id), sum(amount) FROM {table} WHERE channel = '{channel}'"
ROWS = "SELECT order_id, status, amount FROM {table} WHERE channel IN ('" + READ + "', '" + WRITE + "')"


def postgres_rows(cfg, sql: str) -> list[tuple]:
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        return [tuple(row) for row in pg.execute(sql).fetchall()]


class Readers:
    """Threads reading the fixed orders through the view until stopped; every answer is kept."""

    def __init__(self, cfg, expected: tuple, threads: int = 2):
        self.cfg, self.expected, self.stop = cfg, expected, threading.Event()
        self.reads, self.wrong, self.errors = 0, [], []
        self.threads = [threading.Thread(target=self._read, daemon=True) for _ in range(threads)]

    def _read(self) -> None:
        while not self.stop.is_set():
            try:
                [answer] = query(self.cfg, COUNTS.format(table="hive.views.orders", channel=READ))
            except Exception as error:  # noqa: BLE001 -- every failure a reader sees is the finding
                self.errors.append(repr(error)[:300])
                continue
            self.reads += 1
            if tuple(answer) != self.expected:
                self.wrong.append((time.strftime("%H:%M:%S"), tuple(answer)))

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


class Writer:
    """Inserts, updates and deletes the writer's orders, about 5 changes a second, until stopped."""

    def __init__(self, cfg, ids: list[int]):
        self.cfg, self.ids, self.stop = cfg, list(ids), threading.Event()
        self.changes = self.deletes = 0
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        rng = random.Random(23)
        with psycopg.connect(self.cfg.postgres_dsn(), autocommit=True) as pg:
            while not self.stop.wait(0.2):
                roll = rng.random()
                if roll < 0.3 or len(self.ids) < 10:
                    self.ids.append(pg.execute(INSERT, (rng.randint(1, 99), WRITE, rng.randint(1, 9999))).fetchone()[0])
                elif roll < 0.85:
                    pg.execute("UPDATE orders SET status = %s, amount = amount + 1 WHERE order_id = %s",
                               (rng.choice(["paid", "shipped", "returned"]), rng.choice(self.ids)))
                else:
                    pg.execute("DELETE FROM orders WHERE order_id = %s", (self.ids.pop(rng.randrange(len(self.ids))),))
                    self.deletes += 1
                self.changes += 1

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        self.thread.join(60)


def test_compact_streams_rebuilds_orders_from_live_rows_while_readers_see_every_row(bootstrapped):
    cfg = bootstrapped
    if view_definition(lambda sql: query(cfg, sql), "hive.views.orders") is None:
        run_dag(cfg, "create_views")
    # History: the readers' orders updated three times; the writer's half deleted.
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("DELETE FROM orders WHERE channel IN (%s, %s)", (READ, WRITE))
        fixed = [pg.execute(INSERT, (i % 50, READ, 10 + i)).fetchone()[0] for i in range(300)]
        written = [pg.execute(INSERT, (i % 50, WRITE, 20 + i)).fetchone()[0] for i in range(300)]
        for step in ("paid", "shipped", "delivered"):
            pg.execute("UPDATE orders SET status = %s, updated_at = now() WHERE channel = %s", (step, READ))
            pg.execute("UPDATE orders SET status = %s WHERE channel = %s", (step, WRITE))
        pg.execute("DELETE FROM orders WHERE order_id = ANY(%s)", (written[:150],))
    [expected] = postgres_rows(cfg, COUNTS.format(table="orders", channel=READ))
    assert expected[0] == len(fixed)
    # Both channels: the deletes are the last changes made, and the capacity below must count them.
    history = sorted(postgres_rows(cfg, ROWS.format(table="orders")))
    wait("the view shows the test's orders, the deletes included", lambda: sorted(
        tuple(r) for r in query(cfg, ROWS.format(table="hive.views.orders"))) == history, 180)
    before = table_capacity(cfg.pinot_broker.url, "orders")
    assert before.keys - before.live >= 150 and before.documents > before.keys, before

    client = ready_client(cfg, "compact_streams")
    started = time.monotonic()
    with Readers(cfg, expected) as readers, Writer(cfg, written[150:]) as writer:
        run_id = client.trigger(conf={"streams": ["orders"], "dead_share": 0, "min_documents": 0})
        state, tasks = client.wait_for_run(run_id, timeout_s=900)
    seconds = time.monotonic() - started
    print(f"\ncompaction of orders: {seconds:.0f}s, {readers.reads} reads, {len(readers.errors)} errors, "
          f"{len(readers.wrong)} wrong; {writer.changes} changes written meanwhile ({writer.deletes} deletes)")
    assert state == "success" and first_try_succeeded(client, run_id), tasks
    report = client.return_value(run_id, "compact")["orders"]
    print(f"documents each serving table took while the other was built: {report['served_gained']}")
    # No snapshot passed through a table while it served: each took the changes written meanwhile,
    # not one more version of every live order (a snapshot through it adds at least before.live).
    assert set(report["served_gained"]) == {"orders", "orders_rebuild"}, report
    assert all(0 <= gained < before.live for gained in report["served_gained"].values()), (report, before)
    assert readers.reads >= 10, readers.reads
    assert readers.errors == [] and readers.wrong == [], (readers.errors[:3], readers.wrong[:3], expected)

    # Every change the writer made reached the rebuilt table, value for value.
    source = sorted(postgres_rows(cfg, ROWS.format(table="orders")))
    wait("the view equals PostgreSQL for the test's orders",
         lambda: sorted(tuple(r) for r in query(cfg, ROWS.format(table="hive.views.orders"))) == source, 180)
    assert all(isinstance(amount, Decimal) for *_, amount in source)
    live = postgres_rows(cfg, "SELECT count(*) FROM orders")[0][0]
    after = wait("Pinot's live orders equal PostgreSQL's",
                 lambda: (c := table_capacity(cfg.pinot_broker.url, "orders")).live == live and c, 120)
    # Deleted keys and old versions are gone; only the deletes made during the rebuild remain.
    assert after.keys - after.live <= writer.deletes, (before, after, writer.deletes)
    assert after.documents < before.documents, (before, after)
    assert reads(view_definition(lambda sql: query(cfg, sql), "hive.views.orders"), "orders") == "orders"
    assert "orders_rebuild" not in requests.get(f"{cfg.pinot_controller.url}/tables", timeout=10).json()["tables"]
    # The stand-in's feed is gone: its connector, its topics and its replication slot.
    assert not requests.get(f"{cfg.connect.url}/connectors/orders-compaction", timeout=10).ok
    assert not [t for t in AdminClient({"bootstrap.servers": cfg.kafka_bootstrap}).list_topics(timeout=10).topics
                if t.startswith("orders_rebuild") or t.endswith("_compaction")]
    assert postgres_rows(cfg, "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '%compaction'") == []
    print(f"orders before: {before}\norders after:  {after}")

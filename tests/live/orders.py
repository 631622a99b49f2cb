"""Orders of the demo's kind written by a test, and the wait until Pinot holds them: a test that
needs orders in the views' window writes its own instead of counting on an earlier test's."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import psycopg

from realtime_platform.trino_client import query
from tests.live.polling import wait

CDC_WITHIN_S = 180


def insert_orders(cfg, count: int = 300, seed: int = 7) -> None:
    """Orders created over the last 450 days (some outside the 365-day window, some today), then
    a few updates and deletes: every kind of CDC event the views must reflect."""
    rng = random.Random(seed)
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        ids = []
        # The first ten are from today (UTC), however early in the day the test runs.
        now = datetime.now(UTC)
        today_s = max(1.0, (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() - 1)
        for i in range(count):
            age_s = rng.uniform(0, min(12 * 3600, today_s)) if i < 10 else rng.uniform(0, 450 * 86400)
            (order_id,) = conn.execute(
                "INSERT INTO orders (customer_id, status, channel, country, amount, created_at, updated_at) "
                "VALUES (%s, 'placed', %s, %s, %s, (now() AT TIME ZONE 'utc') - make_interval(secs => %s), "
                "now() AT TIME ZONE 'utc') RETURNING order_id",
                (rng.randint(1, 50), rng.choice(["web", "mobile", "store"]), rng.choice(["DE", "IN"]),
                 round(rng.uniform(5, 500), 2), age_s)).fetchone()
            ids.append(order_id)
        for order_id in rng.sample(ids, 15):
            conn.execute("UPDATE orders SET status = 'paid', amount = amount + 1, "
                         "updated_at = now() AT TIME ZONE 'utc' WHERE order_id = %s", (order_id,))
        for order_id in rng.sample(ids, 15):
            conn.execute("DELETE FROM orders WHERE order_id = %s", (order_id,))


def wait_for_cdc(cfg) -> None:
    """Pinot holds exactly the live orders of PostgreSQL (inserts, updates and deletes arrived)."""
    def differences() -> tuple[set, set]:
        with psycopg.connect(cfg.postgres_dsn()) as conn:
            expected = {(r[0], float(r[1])) for r in conn.execute("SELECT order_id, amount FROM orders")}
        seen = {(r[0], float(r[1])) for r in
                query(cfg, "SELECT order_id, amount FROM pinot.default.orders WHERE deleted = false")}
        return expected - seen, seen - expected

    wait("Pinot's orders equal to PostgreSQL's", lambda: differences() == (set(), set()), CDC_WITHIN_S,
         explain=lambda: "{} missing or stale, {} extra".format(*map(len, differences())))

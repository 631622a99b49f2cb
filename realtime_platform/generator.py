"""Demo data generator: inserts, updates and deletes `person` and `orders` rows in PostgreSQL.

Deterministic for a seed: the same seed gives the same sequence of operations and values (the
ids themselves come from the table's sequence). Each operation commits on its own, so every
change is a separate CDC event with its own commit time.

    python -m realtime_platform.generator --inserts 1000 --updates 100 --deletes 100 --seed 7
    python -m realtime_platform.generator --duration 60 --rate 20      # a mixed stream for a minute
    python -m realtime_platform.generator --table orders --inserts 2000
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass, field

import psycopg

FIRST_NAMES = ("Fasih", "Alice", "Bob", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan",
               "Jia", "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven")
LAST_NAMES = ("Khan", "Smith", "Okafor", "Li", "Garcia", "Novak", "Haddad", "Sato", "Moreau", "Rossi")


def _returned(cursor: psycopg.Cursor) -> tuple:
    """The row an INSERT ... RETURNING gave back."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING gave back no row")
    return tuple(row)


@dataclass
class GeneratorReport:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    live_keys: set[tuple[int, int]] = field(default_factory=set)
    deleted_keys: set[tuple[int, int]] = field(default_factory=set)
    # (id, customer_id) -> commit time (time.time()) of the insert, for freshness measurements
    insert_commit_times: dict[tuple[int, int], float] = field(default_factory=dict)

    def summary(self) -> str:
        return f"inserted {self.inserted}, updated {self.updated}, deleted {self.deleted}"


class PersonGenerator:
    """Writes person rows; updates and deletes only touch rows this generator inserted."""

    def __init__(self, conn: psycopg.Connection, seed: int = 42, customers: int = 500):
        self.conn = conn
        self.rng = random.Random(seed)
        self.customers = customers
        self.report = GeneratorReport()
        self._keys: list[tuple[int, int]] = []  # insertion order keeps choices deterministic

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def insert(self) -> tuple[int, int]:
        customer_id = self.rng.randint(1, self.customers)
        with self.conn.transaction():
            row = _returned(self.conn.execute(
                "INSERT INTO person (customer_id, name) VALUES (%s, %s) RETURNING id, customer_id",
                (customer_id, self._name())))
        key = (row[0], row[1])
        self.report.insert_commit_times[key] = time.time()
        self._keys.append(key)
        self.report.live_keys.add(key)
        self.report.inserted += 1
        return key

    def update(self) -> tuple[int, int] | None:
        if not self._keys:
            return None
        key = self._keys[self.rng.randrange(len(self._keys))]
        with self.conn.transaction():
            self.conn.execute("UPDATE person SET name = %s WHERE id = %s AND customer_id = %s",
                              (self._name(), *key))
        self.report.updated += 1
        return key

    def delete(self) -> tuple[int, int] | None:
        if not self._keys:
            return None
        key = self._keys.pop(self.rng.randrange(len(self._keys)))
        with self.conn.transaction():
            self.conn.execute("DELETE FROM person WHERE id = %s AND customer_id = %s", key)
        self.report.live_keys.discard(key)
        self.report.deleted_keys.add(key)
        self.report.deleted += 1
        return key


STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")
CHANNELS = ("web", "mobile", "store", "partner")
COUNTRIES = ("DE", "FR", "IN", "NG", "US", "BR", "JP")


class OrdersGenerator:
    """Writes orders created over the last ~15 months (UTC), so the 365-day views have an edge."""

    def __init__(self, conn: psycopg.Connection, seed: int = 42, customers: int = 500,
                 history_days: int = 450):
        self.conn = conn
        self.rng = random.Random(seed)
        self.customers = customers
        self.history_days = history_days
        self.report = GeneratorReport()
        self._keys: list[int] = []

    def insert(self) -> int:
        age_s = self.rng.uniform(0, self.history_days * 86400)
        with self.conn.transaction():
            (order_id,) = _returned(self.conn.execute(
                "INSERT INTO orders (customer_id, status, channel, country, amount, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, (now() AT TIME ZONE 'utc') - make_interval(secs => %s), "
                "(now() AT TIME ZONE 'utc') - make_interval(secs => %s)) RETURNING order_id",
                (self.rng.randint(1, self.customers), self.rng.choice(STATUSES[:2]), self.rng.choice(CHANNELS),
                 self.rng.choice(COUNTRIES), round(self.rng.uniform(5, 500), 2), age_s, age_s)))
        self._keys.append(order_id)
        self.report.live_keys.add((order_id, 0))
        self.report.inserted += 1
        return order_id

    def update(self) -> int | None:
        if not self._keys:
            return None
        order_id = self._keys[self.rng.randrange(len(self._keys))]
        with self.conn.transaction():
            self.conn.execute("UPDATE orders SET status = %s, updated_at = now() AT TIME ZONE 'utc' "
                              "WHERE order_id = %s", (self.rng.choice(STATUSES[1:]), order_id))
        self.report.updated += 1
        return order_id

    def delete(self) -> int | None:
        if not self._keys:
            return None
        order_id = self._keys.pop(self.rng.randrange(len(self._keys)))
        with self.conn.transaction():
            self.conn.execute("DELETE FROM orders WHERE order_id = %s", (order_id,))
        self.report.live_keys.discard((order_id, 0))
        self.report.deleted_keys.add((order_id, 0))
        self.report.deleted += 1
        return order_id


GENERATORS = {"person": PersonGenerator, "orders": OrdersGenerator}


class _Pacer:
    """Sleeps so that operations run at `rate` per second (no pacing when rate is None)."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        self.next_at += self.interval
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def run_counts(dsn: str, inserts: int, updates: int, deletes: int, seed: int = 42,
               rate: float | None = None, table: str = "person") -> GeneratorReport:
    """Inserts, then updates, then deletes the given numbers of rows of `table`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        gen = GENERATORS[table](conn, seed)
        pacer = _Pacer(rate)
        for op, count in ((gen.insert, inserts), (gen.update, updates), (gen.delete, deletes)):
            for _ in range(count):
                op()
                pacer.wait()
        return gen.report


def run_mixed(dsn: str, duration_s: float, rate: float, seed: int = 42,
              weights: tuple[int, int, int] = (6, 3, 1), table: str = "person") -> GeneratorReport:
    """A stream of inserts/updates/deletes (by weight) at `rate` per second for `duration_s`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        gen = GENERATORS[table](conn, seed)
        pacer = _Pacer(rate)
        ops = (gen.insert, gen.update, gen.delete)
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            gen.rng.choices(ops, weights=weights)[0]()
            pacer.wait()
        return gen.report


def main(argv: list[str] | None = None) -> None:
    from realtime_platform.config import settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inserts", type=int, default=100)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--deletes", type=int, default=10)
    parser.add_argument("--duration", type=float, help="seconds of a mixed stream (ignores the counts)")
    parser.add_argument("--rate", type=float, help="operations per second (default: as fast as possible)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--table", choices=sorted(GENERATORS), default="person")
    args = parser.parse_args(argv)
    dsn = settings().postgres_dsn()
    if args.duration:
        report = run_mixed(dsn, args.duration, args.rate or 10, args.seed, table=args.table)
    else:
        report = run_counts(dsn, args.inserts, args.updates, args.deletes, args.seed, args.rate,
                            table=args.table)
    print(report.summary())


if __name__ == "__main__":
    main()

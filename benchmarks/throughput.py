"""End-to-end CDC throughput: bulk insert, then bulk update, then bulk delete N rows of `person` in
PostgreSQL, and time each phase until Trino (`hive.views.person`, read from Pinot) shows its final
state. Prints rows/s per phase and the peak resident memory of each service during the run.

    .venv/bin/python benchmarks/throughput.py --rows 1000000

Needs the running, bootstrapped local stack (`make up`). The benchmark's rows are removed again by
its own delete phase.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

import psycopg

from realtime_platform.config import settings
from realtime_platform.local.paths import state_paths
from realtime_platform.local.processes import stack_processes
from realtime_platform.trino_client import connect

VIEW = "hive.views.person"


class PeakMemory(threading.Thread):
    """Samples the resident memory of each service (all its processes) once a second."""

    def __init__(self, paths):
        super().__init__(daemon=True)
        self.paths, self.peak, self.stop = paths, {}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            totals: dict[str, int] = {}
            for process in stack_processes(self.paths):
                totals[process.service] = totals.get(process.service, 0) + process.rss_bytes
            for service, rss in totals.items():
                self.peak[service] = max(self.peak.get(service, 0), rss)
            self.stop.wait(1)


def wait_until(cursor, sql: str, done: Callable[[int], bool], timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        cursor.execute(sql)
        value = cursor.fetchone()[0]
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"after {timeout_s:.0f}s: {sql} = {value}")
        time.sleep(0.25)


def phase(name: str, conn, statement: str, cursor, check_sql: str, done: Callable[[int], bool],
          rows: int, timeout_s: float) -> tuple[str, int, float, float]:
    print(f"== {name}: {rows} rows", flush=True)
    started = time.monotonic()
    conn.execute(statement)
    committed = time.monotonic() - started
    wait_until(cursor, check_sql, done, timeout_s)
    seconds = time.monotonic() - started
    print(f"   committed in {committed:.2f}s, visible in Trino after {seconds:.1f}s "
          f"({rows / seconds:,.0f} rows/s)", flush=True)
    return name, rows, committed, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per phase")
    parser.add_argument("--replica-identity", choices=["DEFAULT", "FULL"], default="FULL",
                        help="person's replica identity for this run (the platform sets FULL, which keeps "
                             "TOASTed values exact; DEFAULT measures what that costs); FULL is set again after")
    args = parser.parse_args()
    cfg = settings()
    n = args.rows

    memory = PeakMemory(state_paths(cfg))
    memory.start()
    cursor = connect(cfg).cursor()
    results = []
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"ALTER TABLE person REPLICA IDENTITY {args.replica_identity}")
        print(f"person: REPLICA IDENTITY {args.replica_identity}", flush=True)
        # Above every id ever used (soft-deleted rows stay in Pinot): the sequence, not max(id).
        start = conn.execute("SELECT last_value FROM pg_sequences "
                             "WHERE sequencename = 'person_id_seq'").fetchone()[0] or 0
        mine = f"FROM {VIEW} WHERE id > {start}"
        results.append(phase(
            "insert", conn, "INSERT INTO person (customer_id, name) "
            f"SELECT g % 1000, 'bench ' || g FROM generate_series(1, {n}) AS g",
            cursor, f"SELECT count(*) {mine}", lambda v: v == n, n, args.timeout))
        results.append(phase(
            "update", conn, f"UPDATE person SET name = 'updated ' || id WHERE id > {start}",
            cursor, f"SELECT count(*) {mine} AND name LIKE 'updated %'", lambda v: v == n, n, args.timeout))
        results.append(phase(
            "delete", conn, f"DELETE FROM person WHERE id > {start}",
            cursor, f"SELECT count(*) {mine}", lambda v: v == 0, n, args.timeout))
        conn.execute("ALTER TABLE person REPLICA IDENTITY FULL")
    memory.stop.set()
    memory.join(5)

    print(f"\n{'phase':<8}{'rows':>10}{'commit s':>10}{'seconds':>9}{'rows/s':>10}")
    for name, rows, committed, seconds in results:
        print(f"{name:<8}{rows:>10}{committed:>10.2f}{seconds:>9.1f}{rows / seconds:>10,.0f}")
    print(f"\n{'service':<24}{'peak RSS':>10}")
    for service, rss in sorted(memory.peak.items()):
        print(f"{service:<24}{rss / 2**20:>8.0f}MB")


if __name__ == "__main__":
    main()

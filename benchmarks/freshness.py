"""Freshness of the CDC path: seconds from a Postgres commit to the row being visible in
`hive.views.person` through Trino. Prints p50/p95/max over N inserted rows.

    .venv/bin/python benchmarks/freshness.py --rows 1000 --rate 50
    .venv/bin/python benchmarks/freshness.py --rows 20000 --rate 5000 --batch 10

One writer connection commits `--batch` rows per transaction (one row per commit tops out near
1,000 commits/s here), paced to `--rate` rows/s; each row's latency counts from its commit.

Needs the running, bootstrapped local stack (`make up`). Resolution is one Trino poll
(~0.1-0.3 s on our machines), which the printed poll statistics show.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import psycopg

from realtime_platform.config import settings
from realtime_platform.generator import _Pacer
from realtime_platform.trino_client import connect


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50, help="inserts per second")
    parser.add_argument("--batch", type=int, default=1, help="rows per transaction")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    cfg = settings()

    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        # Above every id ever used: rows deleted by an earlier run may still be visible in Trino.
        start_id = conn.execute("SELECT last_value FROM pg_sequences "
                                "WHERE sequencename = 'person_id_seq'").fetchone()[0] or 0
        done = threading.Event()
        commits: dict[int, float] = {}
        write_span: list[float] = []

        def write() -> None:
            pacer = _Pacer(args.rate / args.batch)
            started = time.monotonic()
            for first in range(0, args.rows, args.batch):
                size = min(args.batch, args.rows - first)
                ids = conn.execute("INSERT INTO person (customer_id, name) SELECT g %% 500 + 1, 'fresh ' || g "
                                   "FROM generate_series(1, %s) AS g RETURNING id", (size,)).fetchall()
                committed = time.time()  # autocommit: the statement is its own transaction
                commits.update((row[0], committed) for row in ids)
                pacer.wait()
            write_span.append(time.monotonic() - started)
            done.set()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        first_seen: dict[int, float] = {}
        poll_times = []
        cursor = connect(cfg).cursor()
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            t0 = time.time()
            cursor.execute(f"SELECT id FROM hive.views.person WHERE id > {start_id}")
            ids = [row[0] for row in cursor.fetchall()]
            t1 = time.time()
            poll_times.append(t1 - t0)
            for row_id in ids:
                first_seen.setdefault(row_id, t1)
            if done.is_set() and len(first_seen) >= args.rows:
                break
        writer.join()

    latencies = [first_seen[i] - commits[i] for i in commits if i in first_seen]
    missing = len(commits) - len(latencies)
    achieved = len(commits) / write_span[0] if write_span and write_span[0] > 0 else float("nan")
    print(f"rows inserted          {len(commits)}: target {args.rate:g}/s, achieved {achieved:,.0f}/s")
    print(f"rows seen in Trino     {len(latencies)} (missing {missing})")
    print(f"freshness p50          {percentile(latencies, 0.50):.2f} s")
    print(f"freshness p95          {percentile(latencies, 0.95):.2f} s")
    print(f"freshness max          {max(latencies):.2f} s")
    print(f"trino poll             mean {statistics.mean(poll_times):.2f} s over {len(poll_times)} polls")
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"DELETE FROM person WHERE id > {start_id} AND name LIKE 'fresh %'")


if __name__ == "__main__":
    main()

"""The demo of the main command: write rows to Postgres, then read them back through Trino."""

from __future__ import annotations

import time

from realtime_platform.config import PlatformSettings
from realtime_platform.generator import run_counts
from realtime_platform.trino_client import query


def wait_for_keys(cfg: PlatformSettings, keys: set[tuple[int, int]], timeout_s: float = 120) -> float:
    """Seconds until every key is visible in hive.views.person (raises on timeout)."""
    start = time.monotonic()
    ids = ",".join(str(i) for i, _ in keys)
    while True:
        seen = set(query(cfg, f"SELECT id, customer_id FROM hive.views.person WHERE id IN ({ids})"))
        if keys <= seen:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"{len(keys - seen)} of {len(keys)} rows not visible in Trino "
                               f"after {timeout_s:.0f}s")
        time.sleep(0.5)


def run_demo(cfg: PlatformSettings, rows: int = 20, seed: int = 42) -> None:
    print(f"== demo: inserting {rows} person rows, updating {rows // 4}, deleting {rows // 10}")
    report = run_counts(cfg.postgres_dsn(), inserts=rows, updates=rows // 4, deletes=rows // 10, seed=seed)
    print(f"   postgres: {report.summary()}")
    waited = wait_for_keys(cfg, report.live_keys)
    print(f"   all {len(report.live_keys)} live rows visible in hive.views.person after {waited:.1f}s")
    ids = ",".join(str(i) for i, _ in report.live_keys)
    rows_back = query(cfg, f"SELECT id, customer_id, name, op FROM hive.views.person "
                           f"WHERE id IN ({ids}) ORDER BY id LIMIT 10")
    total = query(cfg, "SELECT count(*) FROM hive.views.person")[0][0]
    print("\ntrino> SELECT id, customer_id, name, op FROM hive.views.person ORDER BY id LIMIT 10;")
    print(f"{'id':>6} | {'customer_id':>11} | {'name':<20} | op")
    for row in rows_back:
        print(f"{row[0]:>6} | {row[1]:>11} | {row[2]:<20} | {row[3]}")
    print(f"({total} rows in hive.views.person)")

"""The demo of the main command: rows written to Postgres come back through Trino; the
create_views DAG builds the views and the orders report on the live stack; the DAGs that follow it
on asset events summarize the orders with TSum and refresh the DataHub catalog."""

from __future__ import annotations

import time

from realtime_platform.config import PlatformSettings
from realtime_platform.generator import run_counts
from realtime_platform.local.airflow_client import AirflowClient
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


def _print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    print(f"\ntrino> {title}")
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows)]
    print(" | ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(v).ljust(w) for v, w in zip(row, widths)))
    print(f"({len(rows)} rows)")


def demo_person(cfg: PlatformSettings, rows: int, seed: int) -> None:
    print(f"== person: inserting {rows} rows, updating {rows // 4}, deleting {rows // 10} in Postgres")
    report = run_counts(cfg.postgres_dsn(), inserts=rows, updates=rows // 4, deletes=rows // 10, seed=seed)
    waited = wait_for_keys(cfg, report.live_keys)
    print(f"   all {len(report.live_keys)} live rows visible in hive.views.person after {waited:.1f}s")
    ids = ",".join(str(i) for i, _ in report.live_keys)
    sql = f"SELECT id, customer_id, name, op FROM hive.views.person WHERE id IN ({ids}) ORDER BY id LIMIT 10"
    _print_table(sql, ("id", "customer_id", "name", "op"), query(cfg, sql))


def _await_success(client: AirflowClient, run_id: str, started: float) -> None:
    """Waits for the run, prints its task states; a failed run ends the demo, naming the DAG."""
    state, tasks = client.wait_for_run(run_id)
    print(f"   run {state} after {time.monotonic() - started:.0f}s: "
          + ", ".join(f"{task}={task_state}" for task, task_state in sorted(tasks.items())))
    if state != "success":
        raise SystemExit(f"{client.dag_id} failed; see the task logs in the Airflow UI at {client.url}")


FOLLOWERS = ("tsum_summaries", "datahub_ingestion")  # started by create_views' asset events, in turn


def unpause(client: AirflowClient) -> None:
    client.wait_until_known()
    if client.is_paused():
        print(f"   {client.dag_id} was paused; unpausing it (the demo runs every DAG)")
        client.set_paused(False)


def demo_dag(cfg: PlatformSettings, orders: int, seed: int) -> str:
    """Runs create_views on fresh orders; returns the run's id."""
    print(f"\n== orders: inserting {orders} orders over the last 15 months, then running create_views")
    run_counts(cfg.postgres_dsn(), inserts=orders, updates=orders // 5, deletes=orders // 20, seed=seed,
               table="orders")
    for follower in FOLLOWERS:  # a paused DAG gets no run from an asset event: the demo would wait in vain
        unpause(AirflowClient(cfg, follower))
    client = AirflowClient(cfg, "create_views")
    client.wait_until_known()
    client.wait_idle()
    client.set_paused(False)
    started = time.monotonic()
    run_id = client.trigger()
    print(f"   triggered {run_id} through Airflow's API ({client.url}); waiting", flush=True)
    _await_success(client, run_id, started)
    sql = ("SELECT day, channel, orders, customers, revenue FROM hive.reports.orders_by_day "
           "ORDER BY day DESC, channel LIMIT 8")
    _print_table(sql, ("day", "channel", "orders", "customers", "revenue"), query(cfg, sql))
    return run_id


def wait_for_follower(cfg: PlatformSettings, dag_id: str, source_dag_id: str, source_run_id: str) -> str:
    """Waits for the run of `dag_id` that consumed the asset event of the source run; returns its id."""
    client = AirflowClient(cfg, dag_id)
    started = time.monotonic()
    run_id = client.wait_for_run_consuming(source_dag_id, source_run_id)
    print(f"\n== {dag_id}: started by an asset event ({run_id}); waiting", flush=True)
    _await_success(client, run_id, started)
    return run_id


def demo_followers(cfg: PlatformSettings, views_run_id: str) -> None:
    """tsum_summaries (patterns of hive.views.orders), then datahub_ingestion (the catalog)."""
    from realtime_platform.catalog import runner

    tsum_run_id = wait_for_follower(cfg, "tsum_summaries", "create_views", views_run_id)
    sql = ("SELECT rank, pattern, saving, coverage FROM hive.summaries.orders_patterns "
           "WHERE run_date = (SELECT max(run_date) FROM hive.summaries.orders_patterns) ORDER BY rank LIMIT 5")
    _print_table(sql, ("rank", "pattern", "saving", "coverage"), query(cfg, sql))
    wait_for_follower(cfg, "datahub_ingestion", "tsum_summaries", tsum_run_id)
    found = sorted({urn for urn, _ in runner.search("order")})
    print(f"\ncatalog> search 'order' in the DataHub Lite catalog ({len(found)} entities)")
    for urn in found:
        print(f"  {urn}")


def run_demo(cfg: PlatformSettings, rows: int = 20, seed: int = 42) -> None:
    demo_person(cfg, rows, seed)
    views_run_id = demo_dag(cfg, orders=rows * 10, seed=seed)
    demo_followers(cfg, views_run_id)
    print("\nTry it yourself:\n"
          "  .state/bin/trino --execute 'SELECT * FROM hive.views.person LIMIT 5'\n"
          "  .venv/bin/python -m realtime_platform.catalog search customer\n"
          f"  the dashboards: {cfg.superset.url}/superset/dashboard/orders-by-day/")

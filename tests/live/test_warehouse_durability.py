"""The warehouse never forgets: views, reports and TSum history survive kill -9 of the object store
(which also holds the file metastore), of Trino, of Airflow's scheduler and of supervisord, and a
full down and up; a backup restored after a reset brings the whole platform back as it was; a
refresh never leaves readers without a report; a lost object store is an error, not an empty
warehouse.

Each fault records report rows and summary rows before and after, whether the views answer with
the same counts, and the time from the fault until every service is healthy and the warehouse
answers again.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import psutil
import psycopg
import pytest

from realtime_platform.airflow import quality
from realtime_platform.airflow.reports import current_version
from realtime_platform.local import processes, state_backup, supervisor
from realtime_platform.local.paths import StatePaths, state_paths
from realtime_platform.local.services.object_store import object_store_dir
from realtime_platform.local.stack import down, ports_in_use, status, up
from realtime_platform.local.warehouse import (
    WarehouseStateError,
    ensure_warehouse,
    s3_client,
)
from realtime_platform.trino_client import query
from tests.live import supervised
from tests.live.airflow_runs import run_dag
from tests.live.orders import insert_orders, wait_for_cdc
from tests.live.polling import STACK_TRANSIENT, wait

pytestmark = pytest.mark.live

RECOVER_S = 600
REPORT = "hive.reports.orders_by_day"
SUMMARY = "hive.summaries.orders_patterns"


def counts(cfg) -> dict[str, int]:
    def count(relation: str) -> int:
        return query(cfg, f"SELECT count(*) FROM {relation}")[0][0]

    return {"person": count("hive.views.person"), "orders": count("hive.views.orders"),
            "report": count(REPORT), "summary": count(SUMMARY)}


def report_version(cfg) -> str:
    version = current_version(lambda sql: query(cfg, sql), "orders_by_day")
    assert version, "hive.reports.orders_by_day reads no version table"
    return version


# The DAGs that write to the warehouse. They stay paused while the faults run: "nothing lost" is
# "the same counts", which a scheduled run (e.g. create_views at midnight UTC, then TSum for the
# new date) would change without losing anything.
WRITERS = ("create_views", "tsum_summaries", "datahub_ingestion")


def pause_between_runs(client) -> None:
    """Pauses the DAG while none of its runs is active. The scheduler queues no task of a paused
    DAG, so a run paused midway (e.g. the catalog run the TSum run above started) would never end."""
    while True:
        client.wait_idle()
        client.set_paused(True)
        if not client.active_runs():
            return
        client.set_paused(False)  # a run started in between: let it finish first


@pytest.fixture(scope="module")
def warehouse(bootstrapped):
    """Views, a report and stored TSum patterns, built by the platform's own DAGs."""
    from realtime_platform.local.airflow_client import AirflowClient

    cfg = bootstrapped
    insert_orders(cfg, count=60, seed=26)  # its own orders in the views' window
    wait_for_cdc(cfg)
    run_dag(cfg, "create_views")
    run_dag(cfg, "tsum_summaries")
    writers = [AirflowClient(cfg, dag_id) for dag_id in WRITERS]
    for client in writers:  # upstream first: a paused DAG sends no asset event downstream
        client.wait_until_known()
        pause_between_runs(client)
    before = counts(cfg)
    assert before["report"] > 0 and before["summary"] > 0, before
    yield cfg
    for client in writers:
        client.set_paused(False)


def wait_recovered(cfg, since: float) -> tuple[dict[str, int], float]:
    """Every service healthy and the warehouse answering; returns its counts and the seconds."""
    unhealthy: list = []

    def recovered() -> bool:
        rows = status(cfg)
        unhealthy[:] = [(r.name, r.state, r.health) for r in rows if r.health != "healthy" or r.state != "RUNNING"]
        return not unhealthy

    wait("every service healthy again", recovered, RECOVER_S, 2, transient=STACK_TRANSIENT,
         explain=lambda: unhealthy)
    return wait("the warehouse answering", lambda: counts(cfg), 60, 2, transient=STACK_TRANSIENT), \
        time.monotonic() - since


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def record(report, fault: str, before: dict, after: dict, seconds: float) -> None:
    views_ok = (before["person"], before["orders"]) == (after["person"], after["orders"])
    report.append((fault, f"{before['report']} -> {after['report']}",
                   f"{before['summary']} -> {after['summary']}", views_ok, f"{seconds:.0f}s"))


def process_lines(cfg, step: str) -> list[str]:
    paths = state_paths(cfg)
    found = processes.stack_processes(paths)
    daemon = supervisor.daemon_pid(paths)
    orphaned = processes.orphans(paths, daemon)
    return [f"{step}: supervisord {'pid ' + str(daemon) if daemon else 'not running'}, "
            f"{len(found)} stack processes, {len(orphaned)} orphaned"
            + (f" ({processes.describe(orphaned)})" if orphaned else "")
            + f"; ports in use: {ports_in_use(cfg) or 'none'}"]


@pytest.mark.parametrize("victim", ["object-store", "trino", "airflow-scheduler"])
def test_kill_9_of_a_service_loses_nothing(warehouse, victim, warehouse_report):
    cfg = warehouse
    before = counts(cfg)
    killed_at = time.monotonic()
    server = supervisor.rpc(state_paths(cfg)).supervisor
    supervised.wait_respawned(server, victim, supervised.kill(server, victim))
    after, seconds = wait_recovered(cfg, killed_at)
    record(warehouse_report, f"kill -9 {victim}", before, after, seconds)
    assert after == before


def test_kill_9_of_supervisord_then_up_replaces_the_orphans(warehouse, warehouse_report, process_notes):
    cfg = warehouse
    paths = state_paths(cfg)
    before = counts(cfg)
    daemon = supervisor.daemon_pid(paths)
    killed_at = time.monotonic()
    os.kill(daemon, signal.SIGKILL)
    wait("supervisord gone", lambda: not _alive(daemon), 10, 0.05)
    process_notes.extend(process_lines(cfg, "after kill -9 supervisord"))
    # A program that writes to its (now closed) log pipe may die of SIGPIPE: it is STOPPED, and
    # every other one is reported as what it is, running without a supervisor.
    rows = status(cfg)
    running = {p.service for p in processes.stack_processes(paths)}
    assert {r.name for r in rows if r.state == "ORPHANED"} == running & {r.name for r in rows}
    assert {r.state for r in rows} <= {"ORPHANED", "STOPPED"}, [(r.name, r.state) for r in rows]
    assert "ORPHANED" in {r.state for r in rows}

    up(cfg)  # stops the orphans, then starts its own supervised copies
    process_notes.extend(process_lines(cfg, "after make up"))
    assert processes.orphans(paths, supervisor.daemon_pid(paths)) == []
    after, seconds = wait_recovered(cfg, killed_at)
    record(warehouse_report, "kill -9 supervisord, up", before, after, seconds)
    assert after == before
    # That a `down` afterwards leaves no process and no port is checked by the next test's `down`.


def rows(cfg) -> dict[str, list]:
    """Every row of the report and the stored TSum patterns, and the key sets of the views."""
    return {"report": sorted(query(cfg, f"SELECT * FROM {REPORT}")),
            "summary": sorted(map(repr, query(cfg, f"SELECT * FROM {SUMMARY}"))),
            "person": sorted(query(cfg, "SELECT id FROM hive.views.person")),
            "orders": sorted(query(cfg, "SELECT order_id FROM hive.views.orders"))}


def test_down_backup_and_up_loses_nothing_and_a_restore_brings_that_moment_back(
        warehouse, warehouse_report, tmp_path, process_notes):
    """make down, platformctl backup, make up: nothing lost. Then rows written to PostgreSQL reach
    the views; make reset wipes them all; platformctl restore and make up bring back the platform
    as backed up: every view equal to PostgreSQL (values too), the report and the summaries as
    before, and CDC running (a new row flows through)."""
    cfg = warehouse
    before, before_rows = counts(cfg), rows(cfg)
    started = time.monotonic()
    down(cfg)
    process_notes.extend(process_lines(cfg, "after make down"))
    assert processes.stack_processes(state_paths(cfg)) == []
    assert ports_in_use(cfg) == []
    took = time.monotonic()
    state_backup.backup(cfg, tmp_path / "backup", log=process_notes.append)
    backup_s = time.monotonic() - took
    up(cfg)
    after, seconds = wait_recovered(cfg, started)
    record(warehouse_report, "down, backup, up", before, after, seconds)
    assert after == before

    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("INSERT INTO person (customer_id, name) SELECT g, 'after the backup ' || g "
                   "FROM generate_series(1, 25) AS g")
    wait("the rows written after the backup in hive.views.person",
         lambda: counts(cfg)["person"] == before["person"] + 25, timeout_s=120)

    started = time.monotonic()
    down(cfg)
    state_backup.reset(cfg, log=process_notes.append)
    assert not any(state_paths(cfg).data.iterdir())
    took = time.monotonic()
    state_backup.restore(cfg, tmp_path / "backup", log=process_notes.append)
    restore_s = time.monotonic() - took
    up(cfg)
    after, seconds = wait_recovered(cfg, started)
    wait("the views as backed up", lambda: counts(cfg) == before, timeout_s=120)
    record(warehouse_report, "reset, restore, up", before, counts(cfg), seconds)
    process_notes.append(f"backup {backup_s:.0f}s, restore {restore_s:.0f}s, "
                         f"{sum(state_backup.read_manifest(tmp_path / 'backup')['sizes'].values()) / 2**20:.0f} MB")
    assert rows(cfg) == before_rows
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        assert pg.execute("SELECT count(*) FROM person WHERE name LIKE 'after the backup %'").fetchone()[0] == 0
        source_side, target_side = quality.sql_sides(
            fetch_source=lambda sql, params: pg.execute(sql, params or None).fetchall(),
            fetch_target=lambda sql, params: query(cfg, sql))
        # The orders view keeps a window of days before the run date it was built for (today's, by
        # the fixture's run): the check takes the same window.
        day = datetime.now(UTC).date().isoformat()
        results = quality.run_checks(day, source_side, target_side, attempts=10, wait_s=5,
                                     log=process_notes.append)
        assert all(r.ok and r.columns for r in results)
        pg.execute("INSERT INTO person (customer_id, name) VALUES (1, 'after the restore')")
    wait("a row written after the restore in hive.views.person",
         lambda: counts(cfg)["person"] == before["person"] + 1, timeout_s=120)


def test_readers_see_a_report_throughout_refreshes(warehouse):
    cfg = warehouse
    seen: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(query(cfg, f"SELECT count(*) FROM {REPORT}")[0][0])
            except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(error)
            time.sleep(0.2)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        first = report_version(cfg)
        run_dag(cfg, "create_views")
        run_dag(cfg, "create_views")
    finally:
        stop.set()
        reader.join(30)
    assert errors == [], errors[:3]
    assert len(seen) > 20 and min(seen) > 0, seen[:20]
    current = report_version(cfg)
    assert current != first
    versions = [t for (t,) in query(cfg, "SELECT table_name FROM hive.information_schema.tables "
                                         "WHERE table_schema = 'reports' AND table_type = 'BASE TABLE' "
                                         "AND table_name LIKE 'orders\\_by\\_day\\_\\_%' ESCAPE '\\'")]
    assert current in versions and len(versions) == 2, versions  # the current one and the one before


def test_trino_killed_during_a_refresh_leaves_the_previous_report(warehouse):
    cfg = warehouse
    report_before = sorted(query(cfg, f"SELECT * FROM {REPORT}"))
    version_before = report_version(cfg)
    doomed = f"orders_by_day__killed{uuid.uuid4().hex[:6]}_1"
    failure: list[Exception] = []

    def slow_refresh() -> None:  # the report's CTAS, made slow enough to be killed half way
        try:
            query(cfg, f"CREATE TABLE hive.reports.{doomed} WITH (format = 'PARQUET') AS "
                       "SELECT CAST(created_at AS date) AS day, channel, count(*) AS orders, "
                       "sum(a.n * b.n * amount) AS weight FROM hive.views.orders "
                       "CROSS JOIN UNNEST(sequence(1, 10000)) AS a(n) CROSS JOIN UNNEST(sequence(1, 1000)) AS b(n) "
                       "GROUP BY CAST(created_at AS date), channel")
        except Exception as error:  # noqa: BLE001
            failure.append(error)

    refresh = threading.Thread(target=slow_refresh, daemon=True)
    refresh.start()
    wait("the refresh running in Trino", lambda: query(
        cfg, "SELECT count(*) FROM system.runtime.queries WHERE state = 'RUNNING' "
             f"AND query LIKE '%{doomed}%' AND query NOT LIKE '%system.runtime%'")[0][0], 60, 0.2)
    time.sleep(2)
    assert refresh.is_alive(), "the refresh finished before it could be killed: make it slower"
    supervised.kill(supervisor.rpc(state_paths(cfg)).supervisor, "trino")
    refresh.join(60)
    assert failure, "the killed refresh reported success"
    wait_recovered(cfg, time.monotonic())
    assert report_version(cfg) == version_before
    assert sorted(query(cfg, f"SELECT * FROM {REPORT}")) == report_before
    tables = {t for (t,) in query(cfg, "SELECT table_name FROM hive.information_schema.tables "
                                       "WHERE table_schema = 'reports'")}
    assert doomed not in tables
    # The killed CTAS may leave data files without a table; they are not part of any report.
    shutil.rmtree(object_store_dir(state_paths(cfg)) / cfg.s3_bucket / "reports" / doomed, ignore_errors=True)


def test_a_lost_object_store_is_an_error_not_an_empty_warehouse(stack, tmp_path):
    cfg = stack.model_copy(update={"s3_bucket": f"durability-check-{uuid.uuid4().hex[:8]}"})
    paths = StatePaths(tmp_path)
    paths.data.mkdir(parents=True)
    created = ensure_warehouse(cfg, paths)
    assert ensure_warehouse(cfg, paths) == created  # a restart finds the same warehouse

    # The bucket's folder is lost (deleted, or a new disk): S3Proxy serves what is on disk.
    shutil.rmtree(object_store_dir(state_paths(stack)) / cfg.s3_bucket)
    with pytest.raises(WarehouseStateError, match="lost its state") as error:
        ensure_warehouse(cfg, paths)
    assert created in str(error.value) and "Restore" in str(error.value)
    names = [b["Name"] for b in s3_client(cfg).list_buckets()["Buckets"]]
    assert cfg.s3_bucket not in names, "the guard must not create an empty warehouse in its place"

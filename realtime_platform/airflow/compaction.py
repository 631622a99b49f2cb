"""Compaction in Airflow: the compact_streams task, and create_views' hook that reads stand-ins.

`due` is pure; `compact_due_streams` reads each stream's Pinot table through the broker and runs
realtime_platform.compaction with Trino (`trino_default`), PostgreSQL (`postgres_app`, which may write
Debezium's signal table and nothing else there) and the addresses of the task's environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from realtime_platform.config import POSTGRES_CONN_ID, TRINO_CONN_ID

if TYPE_CHECKING:
    from realtime_platform.pinot_capacity import TableCapacity


def due(tables: Sequence[TableCapacity], dead_share: float, min_documents: int) -> list[str]:
    """Tables whose history is worth a rebuild: past the dead share and holding enough documents."""
    return [t.table for t in tables if t.documents >= min_documents and t.documents and t.dead_share >= dead_share]


def stand_in_hook(context) -> None:
    """A pre-execute hook of create_views' view tasks: the rendered SQL reads a serving stand-in
    while a compaction rebuilds its table (the SQL files keep naming the table)."""
    from realtime_platform.compaction import read_stand_ins, serving_stand_ins

    task = context["task"]
    serving = serving_stand_ins(os.environ["PINOT_CONTROLLER_URL"])
    if serving and isinstance(task.sql, str):
        task.sql = read_stand_ins(task.sql, serving)
        task.log.info("reading stand-ins while a compaction rebuilds their tables: %s", serving)


def services():
    """The compaction's services from the task's connections and environment. SQL runs on the
    hooks' connections, not through the hooks' `run`: DataHub's lineage listener would record each of
    the comparison's many queries as the task's lineage."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.providers.trino.hooks.trino import TrinoHook

    from realtime_platform.compaction import CompactionServices
    from realtime_platform.trino_client import run_once

    trino_hook, postgres_hook = TrinoHook(trino_conn_id=TRINO_CONN_ID), PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)

    def postgres(sql: str, params: tuple) -> list[tuple]:
        connection = postgres_hook.get_conn()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            connection.commit()
            return rows
        finally:
            connection.close()

    return CompactionServices(os.environ["PINOT_CONTROLLER_URL"], os.environ["PINOT_BROKER_URL"],
                              os.environ["KAFKA_BOOTSTRAP"], os.environ["CONNECT_URL"],
                              trino=lambda sql: run_once(trino_hook.get_conn(), sql), postgres=postgres)


def compact_due_streams(dead_share: float, min_documents: int, only: Sequence[str] = (),
                        log: Callable[[str], None] = print) -> dict:
    from realtime_platform.compaction import compact
    from realtime_platform.pinot_capacity import table_capacity
    from realtime_platform.streams import streams

    names = [s.name for s in streams() if not only or s.name in only]
    if unknown := set(only) - set(names):
        raise ValueError(f"no stream {', '.join(sorted(unknown))} (dags/sql/views/*.yml)")
    tables = [table_capacity(os.environ["PINOT_BROKER_URL"], name) for name in names]
    for table in tables:
        log(f"{table.table}: {table.documents:,} documents, {table.keys:,} keys, {table.live:,} live, "
            f"{table.dead_share:.0%} dead")
    chosen = due(tables, dead_share, min_documents)
    log(f"due (dead share >= {dead_share:.0%}, documents >= {min_documents:,}): {', '.join(chosen) or 'none'}")
    svc = services()
    results = {}
    for name in chosen:
        report = compact(svc, name, log=log)
        results[name] = {"seconds": round(report.seconds, 1),
                         "before": vars(report.before), "after": vars(report.after),
                         "served_gained": dict(report.served_gained)}
    return results

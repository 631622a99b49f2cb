"""`platformctl stream add | sync | remove`: a stream's files written from its table, kept in step with
it, and the stream taken out of every service again (docs/adding-a-stream.md).

add     reads the table from PostgreSQL, writes the stream's six files (stream_files.stream_files),
        applies its postgres/init file (Debezium's access and the publication) and runs bootstrap.
sync    after ALTER TABLE: new columns into the Pinot schema and table, the view and the init file,
        segments rolled to the new schema, existing rows re-sent by an incremental snapshot;
        dropped columns out of the view. A change Pinot cannot follow is refused with what to do.
remove  stops and deletes the connector with its offsets, the Pinot table and schema, the topics,
        the view and patterns table, the slot and publication (and, if asked, the source table),
        then the files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from realtime_platform import kafka_connect, postgres_tables, stream_config, stream_files
from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.layout import views_folder
from realtime_platform.pinot_segments import commit_consuming
from realtime_platform.polling import wait
from realtime_platform.stream_files import SyncPlan


class StreamCommandError(RuntimeError):
    """What the command cannot do, said so that the user knows what to change."""


def _fetch(pg: psycopg.Connection):
    return lambda sql, params: pg.execute(sql, params).fetchall()


def _exists(pg: psycopg.Connection, table: str) -> bool:
    row = pg.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def qualified(source_table: str) -> str:
    return source_table if "." in source_table else f"public.{source_table}"


def generate(cfg: PlatformSettings, source_table: str, name: str, repo: Path = REPO_ROOT) -> dict[Path, str]:
    """The stream's files for `source_table` ("schema.table") as it is now in PostgreSQL."""
    existing = stream_config.load(repo / "debezium", repo / "pinot" / "tables", views_folder(repo))
    if any(s.name == name for s in existing.streams) or (repo / "debezium" / f"{name}.json").exists():
        raise StreamCommandError(f"a stream named {name} exists already (platformctl stream remove {name})")
    if any(s.source_table == source_table for s in existing.streams):
        raise StreamCommandError(f"{source_table} is captured already")
    with psycopg.connect(cfg.postgres_dsn(), connect_timeout=10) as pg:
        if not _exists(pg, source_table):
            raise StreamCommandError(f"no table {source_table} in PostgreSQL database {cfg.postgres_db}")
        fetch = _fetch(pg)
        columns = postgres_tables.columns(fetch, source_table)
        key = postgres_tables.primary_key(fetch, source_table)
        ddl = postgres_tables.create_table_sql(fetch, source_table)
    try:
        return stream_files.stream_files(repo, name, source_table, columns, key, ddl)
    except ValueError as error:  # UnsupportedColumn is one: the message names columns and types
        raise StreamCommandError(str(error)) from error


def add(cfg: PlatformSettings, source_table: str, name: str | None = None, dry_run: bool = False) -> list[Path]:
    source_table = qualified(source_table)
    name = name or source_table.split(".", 1)[1]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise StreamCommandError(f"{name!r} cannot name a stream (its view, Pinot table, topic and connector): "
                                 f"pass --name with lower-case letters, digits and _")
    files = generate(cfg, source_table, name)
    if dry_run:
        for path, text in files.items():
            print(f"--- {path}\n{text}")
        return list(files)
    for path, text in files.items():
        (REPO_ROOT / path).parent.mkdir(parents=True, exist_ok=True)
        (REPO_ROOT / path).write_text(text)
        print(f"wrote {path}")
    from realtime_platform.local.services.postgres import run_postgres_init

    run_postgres_init(cfg)  # the new file: REPLICA IDENTITY FULL, Debezium's access, the publication
    print("applied postgres/init (replica identity, read access, publication)")
    bootstrap = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "bootstrap.sh")],
                               env={**os.environ, **cfg.service_environment()}, check=False)
    if bootstrap.returncode != 0:
        raise StreamCommandError("bootstrap refused or failed (above); the files stay for you to fix: "
                                 f"edit them and run `make bootstrap`, or `platformctl stream remove {name}`")
    return list(files)


@dataclass(frozen=True)
class StreamParts:
    """What a stream consists of in the services and the repository, read from its files."""

    name: str
    source_table: str
    connector: str | None
    topic_prefix: str | None
    slot: str | None
    publication: str | None
    files: list[Path]

    @property
    def topics(self) -> list[str]:
        return [self.name] + ([f"__debezium-heartbeat.{self.topic_prefix}"] if self.topic_prefix else [])


def parts(name: str, repo: Path = REPO_ROOT, files_in: Path = REPO_ROOT) -> StreamParts:
    """The stream `name` as the files under `repo` describe it; its files as they are (or would be)
    under `files_in` (a test's fixture describes a stream copied into the repository)."""
    streams = stream_config.load(repo / "debezium", repo / "pinot" / "tables", views_folder(repo))
    stream = next((s for s in streams.streams if s.name == name), None)
    if stream is None:
        raise StreamCommandError(f"no stream {name}: no Pinot table of that name in pinot/tables/")
    connector = stream.connector
    source = stream.source_table or (stream.manifest.source_table if stream.manifest else f"public.{name}")
    files = [stream.schema_file, stream.table_file]
    if connector is not None:
        files.append(Path(connector.file))
    files += [p for p in (views_folder(repo) / f"{name}.sql",
                          views_folder(repo) / f"{name}.yml") if p.exists()]
    files += [p for p in sorted((repo / "postgres" / "init").glob("*.sql"))
              if f"\\set source_table {source}\n" in p.read_text()]
    config = connector.config if connector else {}
    return StreamParts(name, source, connector.name if connector else None, config.get("topic.prefix"),
                       config.get("slot.name"), config.get("publication.name"),
                       [files_in / p.relative_to(repo) for p in files])


def remove(cfg: PlatformSettings, stream: StreamParts, drop_table: bool = False) -> None:
    """Takes the stream out of every service and the repository; each step is idempotent, so a
    remove that stopped half-way can run again."""
    from confluent_kafka.admin import AdminClient

    from realtime_platform.trino_client import query

    name = stream.name
    if stream.connector:
        # Its offsets too: a later connector of the same name must snapshot its table, not resume at
        # an LSN of the slot dropped below.
        kafka_connect.delete_with_offsets(cfg.connect.url, stream.connector)
        print(f"connector {stream.connector}: deleted with its offsets")
    pinot = cfg.pinot_controller.url
    if name in requests.get(f"{pinot}/tables", timeout=10).json()["tables"]:
        requests.delete(f"{pinot}/tables/{name}", params={"type": "realtime"}, timeout=60).raise_for_status()
    if name in requests.get(f"{pinot}/schemas", timeout=10).json():
        requests.delete(f"{pinot}/schemas/{name}", timeout=30).raise_for_status()
    # Until the servers have dropped the consuming segments, their consumers would create the topic
    # again (the local broker auto-creates topics).
    wait("Pinot's servers dropped the table", lambda: not requests.get(
        f"{pinot}/tables/{name}/externalview", timeout=10).ok, 120)
    print(f"pinot table and schema {name}: deleted")
    admin = AdminClient({"bootstrap.servers": cfg.kafka_bootstrap})
    if topics := [t for t in stream.topics if t in admin.list_topics(timeout=10).topics]:
        for future in admin.delete_topics(topics).values():
            future.result(timeout=60)
        wait("topics deleted", lambda: not set(stream.topics) & set(admin.list_topics(timeout=10).topics), 60)
    print(f"kafka topics {', '.join(stream.topics)}: deleted")
    query(cfg, f"DROP VIEW IF EXISTS hive.views.{name}")
    query(cfg, f"DROP TABLE IF EXISTS hive.summaries.{name}_patterns")
    print(f"hive.views.{name} and hive.summaries.{name}_patterns: dropped")
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        if stream.slot:
            # The walsender of a deleted connector lets go of its slot within a moment.
            wait("replication slot released", lambda: not pg.execute(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active", (stream.slot,)).fetchone(), 60)
            pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                       (stream.slot,))
        if stream.publication:
            pg.execute(f'DROP PUBLICATION IF EXISTS "{stream.publication}"')
        if drop_table:
            pg.execute(f"DROP TABLE IF EXISTS {stream.source_table}")
        elif _exists(pg, stream.source_table):
            pg.execute(f"ALTER TABLE {stream.source_table} REPLICA IDENTITY DEFAULT")
    print(f"slot {stream.slot} and publication {stream.publication}: dropped; "
          f"{stream.source_table}: {'dropped' if drop_table else 'kept'}")
    for path in stream.files:
        path.unlink(missing_ok=True)
    for folder in {p.parent for p in stream.files}:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # the stream's own Pinot folder
    print("files deleted:", *(str(p) for p in stream.files), sep="\n  ")


# --- stream sync --------------------------------------------------------------------------------------
PROGRESS_EVERY_S = 5  # Debezium notifies every chunk; the log says where it is at most this often
NOTIFICATIONS_TOPIC = "__debezium-notifications"  # debezium/shared/postgres.json: notification.sink.topic.name


def _identifiers(sql: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(stream_files.dump_json(data) + "\n")


def sync(cfg: PlatformSettings, name: str, repo: Path = REPO_ROOT, snapshot_timeout_s: float = 1800) -> SyncPlan:
    """Follows the stream's table after ALTER TABLE: new columns into the Pinot schema and table, the
    view and the postgres/init file; existing rows get their values by an incremental snapshot."""
    streams = stream_config.load(repo / "debezium", repo / "pinot" / "tables", views_folder(repo))
    stream = next((s for s in streams.streams if s.name == name), None)
    if stream is None or stream.connector is None or stream.source_table is None:
        raise StreamCommandError(f"no stream {name} with a connector and a source table in the repository")
    manifest = stream.manifest
    manifest_columns = _identifiers(manifest.source_filter) if manifest else set()
    if manifest and manifest.summarize:
        manifest_columns |= {*manifest.summarize.columns, manifest.summarize.partition_column}
    with psycopg.connect(cfg.postgres_dsn(), connect_timeout=10) as pg:
        fetch = _fetch(pg)
        columns = postgres_tables.columns(fetch, stream.source_table)
        key = postgres_tables.primary_key(fetch, stream.source_table)
        ddl = postgres_tables.create_table_sql(fetch, stream.source_table)
    if key != stream.schema.primaryKeyColumns:
        raise StreamCommandError(f"the primary key of {stream.source_table} is now ({', '.join(key)}), the stream's "
                                 f"({', '.join(stream.schema.primaryKeyColumns)}): re-create the stream")
    schema = json.loads(stream.schema_file.read_text())
    table = json.loads(stream.table_file.read_text())
    plan = stream_files.plan_sync(name, schema, table, columns, key, sorted(manifest_columns))
    if plan.refused:
        raise StreamCommandError("cannot follow the table:\n  " + "\n  ".join(plan.refused))
    view = views_folder(repo) / f"{name}.sql"
    generated_view = view.exists() and view.read_text().startswith(stream_files.GENERATED_VIEW)
    new_view = stream_files.view_sql(name, stream.source_table, columns, key)
    view_changed = generated_view and view.read_text() != new_view  # e.g. a widened numeric's decimal(p,s)
    if not plan.changes and not view_changed:
        print(f"{name}: the stream's files already follow {stream.source_table}")
        return plan
    for column in plan.added:
        print(f"column added: {column.name} {column.type}")
    for dropped in plan.dropped:
        print(f"column dropped: {dropped} (out of the view; Pinot 0.11 keeps the field, NULL from now on)")
    if plan.changes:
        stream.schema_file.write_text(stream_files.dump_schema(stream_files.synced_schema(schema, plan)))
        _write_json(stream.table_file, stream_files.synced_table(table, plan))
        print("wrote", stream.schema_file.relative_to(repo), "and", stream.table_file.relative_to(repo))
    if generated_view:
        view.write_text(new_view)
        print(f"wrote {view.relative_to(repo)}")
    elif plan.changes:
        print(f"{view.relative_to(repo)} is not generated: add or drop the columns there yourself "
              f"(expressions: {', '.join(stream_files.carriage(c).view for c in plan.added) or '-'})")
    for init in (repo / "postgres" / "init").glob("*.sql"):
        text = init.read_text()
        if stream_files.GENERATED_INIT in text and f"\\set source_table {stream.source_table}\n" in text:
            init.write_text(stream_files.capture_sql(stream.source_table, ddl, stream.connector.config["publication.name"]))
            print(f"wrote {init.relative_to(repo)}")

    bootstrap = subprocess.run(["bash", str(repo / "scripts" / "bootstrap.sh")],
                               env={**os.environ, **cfg.service_environment()}, check=False)
    if bootstrap.returncode != 0:
        raise StreamCommandError("bootstrap refused or failed (above): the files are written, nothing else changed")
    if plan.added:
        _roll_segments(cfg, name)
        _snapshot(cfg, stream.source_table, stream.connector.config["topic.prefix"], snapshot_timeout_s)
    return plan


def _roll_segments(cfg: PlatformSettings, name: str) -> None:
    """Completed segments get the new columns (with their default) by a reload; consuming ones were
    built with the old schema, so they are committed and consuming starts again in new ones."""
    pinot = cfg.pinot_controller.url
    requests.post(f"{pinot}/segments/{name}/reload", params={"type": "REALTIME"}, timeout=60).raise_for_status()
    commit_consuming(pinot, name)
    print(f"pinot table {name}: completed segments reloaded, consuming again with the new schema")


def _postgres_runner(cfg: PlatformSettings):
    def run(sql: str, params: tuple) -> list[tuple]:
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            cursor = pg.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    return run


def _snapshot(cfg: PlatformSettings, source_table: str, topic_prefix: str, timeout_s: float) -> None:
    incremental_snapshot(cfg.kafka_bootstrap, _postgres_runner(cfg), source_table, topic_prefix, timeout_s)


def incremental_snapshot(kafka_bootstrap: str, run_sql: Callable[[str, tuple], object], source_table: str,
                         topic_prefix: str, timeout_s: float, log: Callable[[str], None] = print) -> None:
    """Re-sends every row of the table (a Debezium incremental snapshot, asked for in debezium.signal
    through `run_sql`), while changes go on streaming; waits for the connector's notification that it
    is done. Its read events carry the LSN the stream had reached, later than the row's earlier
    changes, so Pinot's upsert (comparison column lsn) takes them, and a change made while the
    snapshot ran wins over it."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"stream-snapshot-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(NOTIFICATIONS_TOPIC, timeout=10).topics[NOTIFICATIONS_TOPIC].partitions
        start = [TopicPartition(NOTIFICATIONS_TOPIC, p, consumer.get_watermark_offsets(
            TopicPartition(NOTIFICATIONS_TOPIC, p), timeout=10)[1]) for p in partitions]
        consumer.assign(start)
        signal = str(uuid.uuid4())
        run_sql("INSERT INTO debezium.signal (id, type, data) VALUES (%s, 'execute-snapshot', %s)",
                (signal, json.dumps({"data-collections": [source_table], "type": "incremental"})))
        log(f"incremental snapshot of {source_table} asked for (signal {signal})")
        deadline, started = time.monotonic() + timeout_s, time.monotonic()
        next_progress = started
        while time.monotonic() < deadline:
            message = consumer.poll(1)
            value = None if message is None or message.error() else message.value()
            if value is None:
                continue
            note = json.loads(value).get("payload") or {}
            extra = note.get("additional_data") or {}
            if note.get("id") != signal or extra.get("connector_name") != topic_prefix:
                continue
            if note.get("type") == "TABLE_SCAN_COMPLETED" and extra.get("status") not in ("SUCCEEDED", "EMPTY"):
                raise StreamCommandError(f"the snapshot of {source_table} ended {extra.get('status')}: see "
                                         f"`platformctl logs connect`")
            if note.get("type") == "IN_PROGRESS" and time.monotonic() >= next_progress:
                next_progress = time.monotonic() + PROGRESS_EVERY_S
                log(f"  snapshot: read up to key {extra.get('last_processed_key', '?')} "
                    f"of {extra.get('maximum_key', '?')}")
            if note.get("type") == "TABLE_SCAN_COMPLETED":
                log(f"  snapshot: {extra.get('total_rows_scanned', '?')} rows read")
            if note.get("type") == "COMPLETED":
                log(f"incremental snapshot of {source_table}: done in {time.monotonic() - started:.1f}s")
                run_sql("DELETE FROM debezium.signal WHERE id = %s", (signal,))
                return
        raise StreamCommandError(f"no notification that the snapshot of {source_table} finished after "
                                 f"{timeout_s:.0f}s (topic {NOTIFICATIONS_TOPIC})")
    finally:
        consumer.close()

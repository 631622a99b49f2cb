"""Compaction by rebuild: a stream's Pinot table rebuilt from its live rows only (#23).

Pinot 0.11 keeps every key and every version an upsert table has seen; it cannot drop one. A table
rebuilt now gets every live row from a Debezium snapshot and the changes after it, so deleted keys
and superseded versions are not in it. Its name stays: the bootstrap, the Trino catalog, `status`
and the catalog know the table by name. Readers of the stream's view must see no gap, so the
rebuild goes through a stand-in, `<name>_rebuild`:

1. build the stand-in from its own feed (compaction_feed: a second connector, its own topic, so the
   served table takes no snapshot); once it holds what the table holds, row for row and value for
   value (through the view's own SELECT), mark it serving and point the view at it;
2. drop the table and build it again from the end of the stream's topic and an incremental snapshot
   of the stream's connector, which the serving stand-in does not read; once it holds what the
   stand-in holds, point the view back, then drop the stand-in and its feed.

A view switch is one CREATE OR REPLACE VIEW. A table is dropped only after the Trino queries that
were running at the switch have ended. The serving mark is kept in Pinot, in the stand-in's table
config (`metadata.customConfigs`): a `create_views` run during a compaction builds the view on the
stand-in too (`read_stand_ins`, in the view tasks' pre-execute hook). A compaction stopped half-way starts
again from what Pinot and the view show.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import requests

from realtime_platform import compaction_feed
from realtime_platform.layout import views_folder
from realtime_platform.pinot_capacity import TableCapacity, table_capacity
from realtime_platform.pinot_segments import commit_consuming, consuming
from realtime_platform.polling import wait

if TYPE_CHECKING:
    from realtime_platform.key_buckets import SqlSide

STAND_IN_SUFFIX = "_rebuild"
SERVING = "compactionServing"  # key in the stand-in's metadata.customConfigs: "true" while it serves
OFFSET_RESET = "stream.kafka.consumer.prop.auto.offset.reset"
TOPIC = "stream.kafka.topic.name"
BROKER_RESOURCE_MISSING = 410  # Pinot broker's error code for a table it has no routing for
BROKER_ATTEMPTS = 3
FIRST_COMMIT_ROWS = 100_000  # rows a partition at which Pinot commits a new table's first segments


class CompactionError(RuntimeError):
    """A compaction that cannot go on; the message says what was found and what to do."""


@dataclass(frozen=True)
class CompactionServices:
    """Where the services are, and how to run SQL on them (the CLI and the DAG bind them differently)."""

    controller_url: str
    broker_url: str
    kafka_bootstrap: str
    connect_url: str
    trino: Callable[[str], list[tuple]]  # one statement, every row fetched
    postgres: Callable[[str, tuple], list[tuple]]  # one statement with parameters, committed; its rows


@dataclass
class CompactionReport:
    stream: str
    before: TableCapacity
    after: TableCapacity | None = None
    seconds: float = 0.0
    # (table, documents it gained) for each table that served while the other was built: the changes
    # written meanwhile, and no snapshot.
    served_gained: list[tuple[str, int]] = field(default_factory=list)

    def describe(self) -> str:
        after = self.after
        lines = [f"{self.stream}: compacted in {self.seconds:.0f}s",
                 f"  {'':<10} {'DOCUMENTS':>12} {'KEYS HELD':>12} {'LIVE ROWS':>12} {'DEAD':>6}"]
        for label, cap in (("before", self.before), ("after", after)):
            if cap is not None:
                lines.append(f"  {label:<10} {cap.documents:>12,} {cap.keys:>12,} {cap.live:>12,} "
                             f"{cap.dead_share:>6.0%}")
        lines += [f"  {table} served while the other was built, and took {gained:,} documents meanwhile"
                  for table, gained in self.served_gained]
        return "\n".join(lines)


def stand_in_name(name: str) -> str:
    return f"{name}{STAND_IN_SUFFIX}"


# --- what the views read ------------------------------------------------------------------------------
def _table_reference(table: str) -> re.Pattern:
    return re.compile(rf"\bpinot\.default\.{re.escape(table)}\b", re.IGNORECASE)


def read_stand_ins(sql: str, serving: dict[str, str]) -> str:
    """`sql` reading each serving stand-in instead of its table (`serving`: table -> stand-in)."""
    for table, stand_in in serving.items():
        sql = _table_reference(table).sub(f"pinot.default.{stand_in}", sql)
    return sql


def serving_stand_ins(controller_url: str, timeout_s: float = 10) -> dict[str, str]:
    """Table -> its stand-in, for every stand-in that Pinot marks serving."""
    serving = {}
    for table in _tables(controller_url, timeout_s):
        if table.endswith(STAND_IN_SUFFIX) and _is_serving(_table_config(controller_url, table, timeout_s)):
            serving[table[: -len(STAND_IN_SUFFIX)]] = table
    return serving


def view_definition(trino: Callable[[str], list[tuple]], view: str) -> str | None:
    catalog, schema, name = view.split(".")
    rows = trino(f"SELECT view_definition FROM {catalog}.information_schema.views "
                 f"WHERE table_schema = '{schema}' AND table_name = '{name}'")
    return rows[0][0] if rows else None


def reads(definition: str, name: str) -> str | None:
    """Which of the stream's tables (itself or its stand-in) a view's SELECT reads."""
    for table in (stand_in_name(name), name):
        if _table_reference(table).search(definition):
            return table
    return None


def on_table(definition: str, name: str, table: str) -> str:
    """The view's SELECT reading `table`, one of the stream's two tables, instead of the other."""
    current = reads(definition, name)
    if current is None:
        raise CompactionError(f"the view does not read pinot.default.{name}: nothing to switch")
    return _table_reference(current).sub(f"pinot.default.{table}", definition)


# --- Pinot --------------------------------------------------------------------------------------------
def _get(url: str, timeout_s: float = 10, **params) -> dict:
    response = requests.get(url, params=params or None, timeout=timeout_s)
    response.raise_for_status()
    return response.json()


def _send(method: str, url: str, what: str, timeout_s: float = 60, **kwargs) -> None:
    response = requests.request(method, url, timeout=timeout_s, **kwargs)
    if not response.ok:
        raise CompactionError(f"Pinot refused to {what}: HTTP {response.status_code} {response.text[:500]}")


def _tables(controller_url: str, timeout_s: float = 10) -> list[str]:
    return _get(f"{controller_url}/tables", timeout_s)["tables"]


def _table_config(controller_url: str, table: str, timeout_s: float = 10) -> dict:
    return _get(f"{controller_url}/tables/{table}", timeout_s, type="realtime").get("REALTIME") or {}


def _is_serving(config: dict) -> bool:
    return ((config.get("metadata") or {}).get("customConfigs") or {}).get(SERVING) == "true"


def _with_serving(config: dict, serving: bool) -> dict:
    config = copy.deepcopy(config)
    custom = config.setdefault("metadata", {}).setdefault("customConfigs", {})
    if serving:
        custom[SERVING] = "true"
    else:
        custom.pop(SERVING, None)
    return config


def rebuilt_config(config: dict, table: str, topic: str, offset_reset: str = "largest") -> dict:
    """`config` (a live realtime table's) for a table named `table` consuming `topic`, from its end
    by default; not serving."""
    config = _with_serving(config, serving=False)
    config["tableName"] = table
    config.setdefault("segmentsConfig", {})["schemaName"] = table
    streams = config["tableIndexConfig"]["streamConfigs"]
    streams[TOPIC], streams[OFFSET_RESET] = topic, offset_reset
    return config


def _broker_routes(broker_url: str, table: str) -> bool:
    """Whether the broker knows the table (a new table with no row yet answers a count of 0)."""
    response = requests.post(f"{broker_url}/query/sql", json={"sql": f"SELECT count(*) FROM {table}"}, timeout=10)
    response.raise_for_status()
    return not any(e.get("errorCode") == BROKER_RESOURCE_MISSING for e in response.json().get("exceptions", []))


def _drop(controller_url: str, table: str, schema_too: bool, log: Callable[[str], None]) -> None:
    if table in _tables(controller_url):
        # retention=0d: the segments are deleted now, not kept 7 days in Pinot's deleted-segments folder.
        _send("DELETE", f"{controller_url}/tables/{table}", f"drop table {table}",
              params={"type": "realtime", "retention": "0d"})
    wait(f"Pinot's servers dropped {table}",
         lambda: requests.get(f"{controller_url}/tables/{table}/externalview", timeout=10).status_code == 404, 180)
    if schema_too and requests.get(f"{controller_url}/schemas/{table}", timeout=10).ok:
        _send("DELETE", f"{controller_url}/schemas/{table}", f"drop schema {table}")
    log(f"pinot table {table}: dropped")


# --- the steps ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Stream:
    name: str
    view: str  # hive.views.<name>
    key: tuple[str, ...]
    source_table: str
    topic_prefix: str
    offset_reset: str  # the table file's: restored once the rebuilt table consumes
    connector: str  # the stream's Kafka Connect name
    topic: str


def _stream(name: str, repo) -> _Stream:
    from realtime_platform import stream_config

    streams = stream_config.load(repo / "debezium", repo / "pinot" / "tables", views_folder(repo))
    stream = next((s for s in streams.streams if s.name == name), None)
    if stream is None or stream.connector is None or stream.source_table is None or stream.manifest is None:
        raise CompactionError(f"no stream {name} with a connector, a source table and a view manifest "
                              f"(dags/sql/views/{name}.yml) in the repository")
    if not stream.table.upsert:
        raise CompactionError(f"{name} is not an upsert table: it holds no superseded versions to drop")
    streams_config = json.loads(stream.table_file.read_text())["tableIndexConfig"]["streamConfigs"]
    return _Stream(name, stream.manifest.view, tuple(stream.manifest.key), stream.source_table,
                   stream.connector.config["topic.prefix"], streams_config.get(OFFSET_RESET, "smallest"),
                   stream.connector.name, streams_config[TOPIC])


def _feed(svc: CompactionServices, stream: _Stream) -> compaction_feed.Feed:
    try:
        config = compaction_feed.stream_connector_config(svc.connect_url, stream.connector)
    except compaction_feed.FeedError as error:
        raise CompactionError(str(error)) from error
    return compaction_feed.feed(stream.connector, config, stream.topic, stand_in_name(stream.name))


def _build(svc: CompactionServices, stream: _Stream, table: str, config: dict, schema: dict,
           partitions: int, timeout_s: float, log: Callable[[str], None],
           feed: compaction_feed.Feed | None = None) -> None:
    """Creates `table` with `config`, then has every live row sent to its topic: by starting its own
    `feed` (a snapshot, then changes), or else by an incremental snapshot of the stream's connector."""
    from realtime_platform.stream_commands import StreamCommandError, incremental_snapshot

    controller = svc.controller_url
    if not requests.get(f"{controller}/schemas/{table}", timeout=10).ok:
        _send("POST", f"{controller}/schemas", f"create schema {table}", json={**schema, "schemaName": table})
    for attempt in range(1, BROKER_ATTEMPTS + 1):
        _send("POST", f"{controller}/tables", f"create table {table}", json=config)
        wait(f"{table} consuming in {partitions} partitions",
             lambda: len(consuming(controller, table)) >= partitions, 120, 1)
        try:
            wait(f"Pinot's broker routing queries to {table}", lambda: _broker_routes(svc.broker_url, table), 60, 1)
            break
        except TimeoutError:
            # Pinot 0.11: a table dropped while the controller's BrokerResourceValidationManager runs
            # can be put back in the broker resource and fail there (ERROR); the broker then answers
            # BrokerResourceMissingError for the table of that name until it is dropped again.
            log(f"pinot table {table}: the broker does not route it (attempt {attempt} of {BROKER_ATTEMPTS}); "
                "dropping it and creating it again")
            _drop(controller, table, schema_too=False, log=log)
    else:
        raise CompactionError(f"Pinot's broker does not route queries to {table} after {BROKER_ATTEMPTS} creations: "
                              "restart Pinot, then run the compaction again")
    streams = config["tableIndexConfig"]["streamConfigs"]
    log(f"pinot table {table}: created, consuming topic {streams[TOPIC]} from its "
        f"{'end' if streams[OFFSET_RESET] == 'largest' else 'start'}")
    try:
        if feed is not None:
            compaction_feed.start(svc.connect_url, feed, log)
            return
        incremental_snapshot(svc.kafka_bootstrap, svc.postgres, stream.source_table, stream.topic_prefix,
                             timeout_s, log)
    except (StreamCommandError, compaction_feed.FeedError) as error:
        raise CompactionError(str(error)) from error


def _commit_rebuilt(svc: CompactionServices, table: str, log: Callable[[str], None]) -> None:
    """Commits the rebuilt table's first segments before it serves, when they are near Pinot's first
    commit anyway. Pinot 0.11 answers a query from each segment's valid rows, and moving a key's
    valid row from one segment to another (a commit; an update of a row that sits in a committed
    segment) is not atomic for a concurrent query: it can miss the row, or count it twice, for a
    moment. A new table commits its first segments at FIRST_COMMIT_ROWS a partition, before Pinot has
    learned their size: a rebuild near that would commit right after the switch, so it is committed
    now. A smaller one is left consuming, as a new table of its size would be; no snapshot passes
    through a serving table (compaction_feed), so nothing else moves its rows while it serves."""
    documents = table_capacity(svc.broker_url, table).documents
    partitions = max(1, len(consuming(svc.controller_url, table)))
    if documents / partitions < FIRST_COMMIT_ROWS / 2:
        log(f"pinot table {table}: {documents:,} rows in {partitions} consuming segments, far from their "
            "first commit: left consuming")
        return
    committed = commit_consuming(svc.controller_url, table)
    log(f"pinot table {table}: {len(committed)} first segments committed before it serves "
        f"({documents:,} rows)")


def _sides(svc: CompactionServices, stream: _Stream, serving_sql: str,
           candidate_sql: str) -> tuple[SqlSide, SqlSide]:
    """The SELECT the view serves now and the candidate, as key_buckets sides on Trino: keys and
    every column's value."""
    from realtime_platform.column_types import trino_text
    from realtime_platform.key_buckets import SqlSide

    catalog, schema, view = stream.view.split(".")
    columns = svc.trino(f"SELECT column_name, data_type FROM {catalog}.information_schema.columns "
                        f"WHERE table_schema = '{schema}' AND table_name = '{view}' ORDER BY ordinal_position")
    content = tuple((c, trino_text(c, t), t.startswith(("varchar", "char", "json")))
                    for c, t in columns if c not in stream.key)

    def side(label: str, sql: str) -> SqlSide:
        return SqlSide(label, f"({sql}) AS {label}", stream.key, lambda q, _: svc.trino(q),
                       content=content, engine="trino")

    return side("serving", serving_sql), side("rebuilt", candidate_sql)


def _wait_equal(svc: CompactionServices, stream: _Stream, serving_sql: str, candidate_sql: str,
                what: str, timeout_s: float, log: Callable[[str], None]) -> None:
    """Until every key range of the candidate has been seen equal to the served one, keys and values
    (key_buckets.converge): both tables consume the same topic, so a range equal once stays equal,
    and writes going on meanwhile do not keep the check from ending."""
    from realtime_platform.key_buckets import SideError, converge

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = converge(*_sides(svc, stream, serving_sql, candidate_sql), max(0.0, deadline - time.monotonic()))
            break
        except SideError as error:
            # Trino's Pinot catalog learns of a new table, and of new segments, within
            # pinot.metadata-expiry (trino/catalogs/pinot.properties).
            if time.monotonic() >= deadline:
                raise CompactionError(f"{what}: {error}") from error
            log(f"{what}: Trino cannot read it yet ({str(error.__cause__ or error)[:160]}); trying again")
            time.sleep(2)
    if not found.converged:
        shown = ", ".join(f"[{a}, {b})" for a, b in found.unmatched[:5])
        raise CompactionError(
            f"{what}: {len(found.unmatched)} ranges of {', '.join(stream.key)} never equal in {timeout_s:.0f}s "
            f"({shown}{', ...' if len(found.unmatched) > 5 else ''}); the view still reads the complete table")
    log(f"{what}: equal, every key range and column ({found.rows:,} rows, {found.ranges_equal:,} ranges, "
        f"{found.rounds} rounds)")


def _running_queries(svc: CompactionServices) -> set[str]:
    return {row[0] for row in svc.trino("SELECT query_id FROM system.runtime.queries "
                                        "WHERE state NOT IN ('FINISHED', 'FAILED')")}


def _switch(svc: CompactionServices, stream: _Stream, definition: str, log: Callable[[str], None]) -> None:
    """Points the view at `definition`'s table, then waits for the queries that may still read the other."""
    svc.trino(f"CREATE OR REPLACE VIEW {stream.view} AS {definition}")
    running = _running_queries(svc)
    wait("Trino queries started before the switch ended", lambda: not running & _running_queries(svc), 600, 1)
    log(f"{stream.view}: reads {reads(definition, stream.name)}")


def _resume_feed(svc: CompactionServices, stream: _Stream, the_feed: compaction_feed.Feed,
                 log: Callable[[str], None]) -> None:
    """Step 2 resumed: the serving stand-in must still be fed. A feed that is gone (deleted, or its
    connector lost) is started again; its new snapshot passes through the serving stand-in, which is
    what the feed normally avoids, but the stand-in is current again rather than stale."""
    if compaction_feed.exists(svc.connect_url, the_feed.connector):
        return
    log(f"the serving stand-in's feed {the_feed.connector} is gone: starting it again (its snapshot passes "
        f"through the serving stand-in)")
    try:
        compaction_feed.remove(svc.connect_url, svc.kafka_bootstrap, the_feed, log, keep_topic=True)
        compaction_feed.start(svc.connect_url, the_feed, log)
    except compaction_feed.FeedError as error:
        raise CompactionError(str(error)) from error


def _wait_slot_dropped(svc: CompactionServices, slot: str) -> None:
    """The feed's slot goes with its connector's orderly stop; one left behind would keep WAL forever."""
    try:
        wait(f"replication slot {slot} dropped", lambda: not svc.postgres(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,)), 60, 1)
    except TimeoutError as error:
        raise CompactionError(f"the table is compacted, but replication slot {slot} was left behind and keeps "
                              f"PostgreSQL's WAL: drop it as the PostgreSQL admin with "
                              f"SELECT pg_drop_replication_slot('{slot}')") from error


def compact(svc: CompactionServices, name: str, repo=None, timeout_s: float = 1800,
            log: Callable[[str], None] = print) -> CompactionReport:
    """Rebuilds the stream's Pinot table from its live rows while its view keeps serving (module doc)."""
    from realtime_platform.config import REPO_ROOT

    started = time.monotonic()
    stream = _stream(name, repo or REPO_ROOT)
    stand_in = stand_in_name(name)
    controller = svc.controller_url
    definition = view_definition(svc.trino, stream.view)
    if definition is None:
        raise CompactionError(f"no view {stream.view}: run create_views first (the view is what readers read)")
    serving_table = reads(definition, name)
    if serving_table is None:
        raise CompactionError(f"{stream.view} does not read pinot.default.{name}: nothing to switch")
    if serving_table == stand_in and stand_in not in _tables(controller):
        raise CompactionError(f"{stream.view} reads pinot.default.{stand_in}, which Pinot does not have: "
                              f"run create_views to point the view at {name} again")
    report = CompactionReport(name, table_capacity(svc.broker_url, serving_table))
    before = report.before
    log(f"{name} before: {before.documents:,} documents, {before.keys:,} keys held, {before.live:,} live rows")

    the_feed = _feed(svc, stream)
    if serving_table == name:
        # Step 1: the stand-in, built from its own feed, then serving.
        _drop(controller, stand_in, schema_too=True, log=log)  # what a stopped run left
        compaction_feed.remove(svc.connect_url, svc.kafka_bootstrap, the_feed, log)
        like, schema = _table_config(controller, name), _get(f"{controller}/schemas/{name}")
        try:
            compaction_feed.create_topic(svc.kafka_bootstrap, stream.topic, the_feed.topic)
        except compaction_feed.FeedError as error:
            raise CompactionError(str(error)) from error
        served_from = table_capacity(svc.broker_url, name).documents
        _build(svc, stream, stand_in, rebuilt_config(like, stand_in, the_feed.topic, "smallest"), schema,
               len(consuming(controller, name)), timeout_s, log, feed=the_feed)
        _wait_equal(svc, stream, definition, on_table(definition, name, stand_in),
                    f"{stand_in} against {name}", timeout_s, log)
        report.served_gained.append((name, table_capacity(svc.broker_url, name).documents - served_from))
        _commit_rebuilt(svc, stand_in, log)
        _send("PUT", f"{controller}/tables/{stand_in}", f"mark {stand_in} serving",
              json=_with_serving(_table_config(controller, stand_in), serving=True))
        _switch(svc, stream, on_table(definition, name, stand_in), log)
    else:
        _resume_feed(svc, stream, the_feed, log)

    # Step 2: the table itself, dropped and built again, then serving again; the stand-in dropped.
    schema = _get(f"{controller}/schemas/{name}")
    _drop(controller, name, schema_too=False, log=log)
    stand_in_config = _table_config(controller, stand_in)
    served_from = table_capacity(svc.broker_url, stand_in).documents
    _build(svc, stream, name, rebuilt_config(stand_in_config, name, stream.topic), schema,
           len(consuming(controller, stand_in)), timeout_s, log)
    serving = on_table(definition, name, stand_in)
    _wait_equal(svc, stream, serving, on_table(definition, name, name), f"{name} against {stand_in}", timeout_s, log)
    report.served_gained.append((stand_in, table_capacity(svc.broker_url, stand_in).documents - served_from))
    _commit_rebuilt(svc, name, log)
    # The table's config as it was: the end-of-topic start only mattered at creation.
    restored = rebuilt_config(stand_in_config, name, stream.topic, stream.offset_reset)
    _send("PUT", f"{controller}/tables/{name}", f"update table {name}", json=restored)
    _send("PUT", f"{controller}/tables/{stand_in}", f"unmark {stand_in}",
          json=_with_serving(stand_in_config, serving=False))
    back = on_table(definition, name, name)
    for _ in range(3):  # a create_views task that read the mark before it was taken off may have switched it
        _switch(svc, stream, back, log)
        if reads(view_definition(svc.trino, stream.view) or "", name) == name:
            break
    else:
        raise CompactionError(f"{stream.view} kept being switched to {stand_in}: is a create_views run stuck?")
    _drop(controller, stand_in, schema_too=True, log=log)
    compaction_feed.remove(svc.connect_url, svc.kafka_bootstrap, the_feed, log)
    _wait_slot_dropped(svc, the_feed.slot)
    report.after = table_capacity(svc.broker_url, name)
    report.seconds = time.monotonic() - started
    log(report.describe())
    return report


def cli_services(cfg) -> CompactionServices:
    """The services of the local stack (PlatformSettings)."""
    from realtime_platform.stream_commands import _postgres_runner
    from realtime_platform.trino_client import query

    return CompactionServices(cfg.pinot_controller.url, cfg.pinot_broker.url, cfg.kafka_bootstrap, cfg.connect.url,
                              trino=lambda sql: query(cfg, sql), postgres=_postgres_runner(cfg))

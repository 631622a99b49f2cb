"""`platformctl`: the local mode's command line (the Makefile's targets call it)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from realtime_platform.config import REPO_ROOT, settings
from realtime_platform.local.secrets import ensure_env_file


def _cfg():
    if ensure_env_file():
        print("wrote random local secrets to .env")
        settings.cache_clear()
    return settings()


def cmd_install(_: argparse.Namespace) -> None:
    from realtime_platform.local.install import install_all

    install_all(_cfg())


def cmd_up(args: argparse.Namespace) -> None:
    from realtime_platform.local.stack import up

    up(_cfg(), only=args.only)


def cmd_down(_: argparse.Namespace) -> None:
    from realtime_platform.local.stack import down

    down(_cfg())


def cmd_status(_: argparse.Namespace) -> None:
    from realtime_platform.local.stack import status

    cfg = _cfg()
    rows = status(cfg)
    print(f"topology {cfg.topology} (state in {cfg.stack_dir})")
    print(f"{'SERVICE':<23}{'PROCESS':<12}{'PID':>8}  {'HEALTH':<12}{'RSS':>9}")
    for row in rows:
        print(f"{row.name:<23}{row.state:<12}{row.pid or '-':>8}  {row.health:<12}"
              f"{row.rss_bytes / 2**20:>7.0f}MB")
    print(f"{'total':<57}{sum(r.rss_bytes for r in rows) / 2**20:>7.0f}MB")
    cdc_ok = print_cdc_health(_cfg()) if all(r.health == "healthy" for r in rows) else True
    orphaned = [row.name for row in rows if row.state == "ORPHANED"]
    if orphaned:
        print(f"ORPHANED: running without supervisord ({', '.join(orphaned)}); `make up` or `make down` "
              "stops them")
    if any(row.health != "healthy" or row.state != "RUNNING" for row in rows) or not cdc_ok:
        sys.exit(1)


def read_cdc_health(cfg):
    """(slots, connectors, Pinot consumer lags, Pinot ingestion gaps, unreadable) of the running stack. A service or table
    that cannot be read adds a sentence to `unreadable` and leaves its readings empty: the rest is
    still read."""
    import psycopg
    import requests

    from realtime_platform import cdc_health
    from realtime_platform.catalog.stream_lineage import stream_tables

    unreadable: list[str] = []
    slots, connectors, lags, gaps = [], [], [], []
    try:
        with psycopg.connect(cfg.postgres_dsn(), connect_timeout=5) as conn:
            slots = cdc_health.slot_lags(conn.execute(cdc_health.SLOT_LAG_SQL).fetchall())
    except psycopg.Error as error:
        unreadable.append(f"PostgreSQL's replication slots cannot be read: {error}")
    try:
        connectors = cdc_health.connector_states(cfg.connect.url)
    except requests.RequestException as error:
        unreadable.append(f"Kafka Connect's connectors cannot be read: {error}")
    try:
        lags = cdc_health.pinot_consumer_lags(cfg.pinot_controller.url,
                                              {t.name: t.topic for t in stream_tables()},
                                              cdc_health.kafka_end_offsets(cfg.kafka_bootstrap), errors=unreadable)
    except Exception as error:  # noqa: BLE001 -- e.g. Kafka unreachable: reported, the rest still printed
        unreadable.append(f"Pinot's consumer lag cannot be read: {type(error).__name__}: {error}")
    gaps = cdc_health.pinot_ingestion_gaps(cfg.pinot_controller.url, cfg.pinot_broker.url,
                                           [t.name for t in stream_tables()], errors=unreadable)
    return slots, connectors, lags, gaps, unreadable


def read_capacity(cfg, unreadable: list[str]):
    """(Pinot servers' heaps and keys, Pinot tables' documents, keys and live rows); what cannot be
    read adds a sentence to `unreadable`."""
    import requests

    from realtime_platform import pinot_capacity
    from realtime_platform.catalog.stream_lineage import stream_tables

    heaps, tables = [], []
    try:
        heaps = pinot_capacity.server_heaps(cfg.pinot_server_metrics_urls)
    except (requests.RequestException, ValueError) as error:
        unreadable.append(f"Pinot servers' heaps cannot be read: {error}")
    for table in stream_tables():
        try:
            tables.append(pinot_capacity.table_capacity(cfg.pinot_broker.url, table.name))
        except (requests.RequestException, RuntimeError, KeyError, IndexError) as error:
            unreadable.append(f"Pinot table {table.name}: its size cannot be read: {error}")
    return heaps, tables


def cmd_metrics(_: argparse.Namespace) -> None:
    from realtime_platform import cdc_health, pinot_capacity

    cfg = _cfg()
    slots, connectors, lags, gaps, unreadable = read_cdc_health(cfg)
    heaps, tables = read_capacity(cfg, unreadable)
    for problem in unreadable:
        print(f"# PROBLEM: {problem}", file=sys.stderr)
    sys.stdout.write(cdc_health.prometheus_text(slots, connectors, lags, gaps))
    sys.stdout.write(pinot_capacity.prometheus_text(heaps, tables))


def print_cdc_health(cfg) -> bool:
    """Slot lag, connector and task states, Pinot's consumer lag and capacity; False when something is wrong."""
    from realtime_platform import cdc_health, pinot_capacity

    slots, connectors, lags, gaps, unreadable = read_cdc_health(cfg)
    print(f"\n{'REPLICATION SLOT':<23}{'ACTIVE':<12}{'LAG':>12}")
    for slot in slots:
        print(f"{slot.name:<23}{'yes' if slot.active else 'NO':<12}{slot.lag_bytes / 2**20:>10.1f}MB")
    print(f"\n{'CONNECTOR':<23}{'STATE':<12}TASKS")
    for connector in connectors:
        print(f"{connector.name:<23}{connector.state:<12}"
              + ", ".join(f"{task}:{state}" for task, state in connector.tasks))
    print(f"\n{'PINOT TABLE':<23}{'PARTITION':<12}{'SERVER':<26}{'LAG':>12}  LAST CONSUMED")
    for lag in lags:
        age = "-" if lag.seconds_since_consumed is None else f"{lag.seconds_since_consumed:.1f}s ago"
        print(f"{lag.table:<23}{lag.topic + '/' + str(lag.partition):<12}{lag.server:<26}"
              f"{lag.records:>8} msgs  {age}")
    failing = [g for g in gaps if g.not_indexed or g.error]
    if failing:
        print(f"\n{'PINOT SEGMENT':<40}{'SERVER':<26}{'CONSUMED':>10}{'INDEXED':>10}  ERROR")
        for gap in failing:
            print(f"{gap.segment:<40}{gap.server:<26}{gap.consumed:>10}{gap.indexed:>10}  {gap.error[:80]}")
    heaps, tables = read_capacity(cfg, unreadable)
    print(f"\n{'PINOT TABLE':<23}{'DOCUMENTS':>12}{'KEYS HELD':>12}{'LIVE ROWS':>12}{'DEAD':>7}")
    for table in tables:
        print(f"{table.table:<23}{table.documents:>12,}{table.keys:>12,}{table.live:>12,}{table.dead_share:>7.0%}")
    print(f"\n{'PINOT SERVER':<23}{'UPSERT KEYS':>12}{'HEAP AFTER GC':>16}{'MAX':>9}")
    for heap in heaps:
        print(f"{heap.server:<23}{heap.keys:>12,}{heap.used_after_gc / 2**20:>11,.0f}MB {heap.share:>3.0%}"
              f"{heap.max / 2**20:>7,.0f}MB")
    found = (unreadable + cdc_health.problems(slots, connectors, cfg.limits.slot_lag_bytes)
             + cdc_health.ingestion_problems(gaps)
             + pinot_capacity.problems(heaps, tables, cfg.limits.pinot_heap_share))
    for problem in found:
        print(f"PROBLEM: {problem}")
    return not found


def cmd_logs(args: argparse.Namespace) -> None:
    from realtime_platform.local.paths import state_paths

    logs = state_paths(_cfg()).logs
    files = [logs / f"{args.service}.log"] if args.service else sorted(logs.glob("*.log"))
    os.execvp("tail", ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []),
                       *map(str, files)])


def cmd_bootstrap(args: argparse.Namespace) -> None:
    cfg = _cfg()
    env = {**os.environ, **cfg.service_environment()}
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "bootstrap.sh"), *args.extra], env=env, check=False)
    sys.exit(result.returncode)


def cmd_env(_: argparse.Namespace) -> None:
    """Prints `export` lines for a shell that talks to the local services."""
    for key, value in _cfg().service_environment().items():
        print(f"export {key}='{value}'")


def cmd_demo(args: argparse.Namespace) -> None:
    from realtime_platform.demo import run_demo

    run_demo(_cfg(), rows=args.rows, seed=args.seed)


def cmd_stream(args: argparse.Namespace) -> None:
    from realtime_platform import compaction, stream_commands

    cfg = _cfg()
    try:
        if args.action == "add":
            stream_commands.add(cfg, args.table, name=args.name, dry_run=args.dry_run)
        elif args.action == "remove":
            stream_commands.remove(cfg, stream_commands.parts(args.stream), drop_table=args.drop_table)
        elif args.action == "sync":
            stream_commands.sync(cfg, args.stream)
        elif args.action == "compact":
            compaction.compact(compaction.cli_services(cfg), args.stream, timeout_s=args.timeout)
    except (stream_commands.StreamCommandError, compaction.CompactionError) as error:
        sys.exit(f"platformctl stream {args.action}: {error}")


def cmd_reset(_: argparse.Namespace) -> None:
    from realtime_platform.local.stack import down
    from realtime_platform.local.state_backup import reset

    cfg = _cfg()
    down(cfg)
    reset(cfg)


def cmd_backup(args: argparse.Namespace) -> None:
    from realtime_platform.local import state_backup

    try:
        state_backup.backup(_cfg(), args.folder)
    except state_backup.StateError as error:
        sys.exit(f"platformctl backup: {error}")


def cmd_restore(args: argparse.Namespace) -> None:
    from realtime_platform.local import state_backup

    try:
        state_backup.restore(_cfg(), args.folder, replace=args.replace)
    except state_backup.StateError as error:
        sys.exit(f"platformctl restore: {error}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="platformctl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="download every service (cached)").set_defaults(func=cmd_install)
    p = sub.add_parser("up", help="install, start and wait for every service")
    p.add_argument("--only", nargs="+", help="start only these services")
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop every service").set_defaults(func=cmd_down)
    sub.add_parser("status", help="process state and health of every service").set_defaults(
        func=cmd_status)
    sub.add_parser("metrics", help="CDC health in Prometheus text format (slot lag, connectors, consumer lag)"
                   ).set_defaults(func=cmd_metrics)
    p = sub.add_parser("logs", help="show service logs")
    p.add_argument("service", nargs="?")
    p.add_argument("-n", "--lines", type=int, default=50)
    p.add_argument("-f", "--follow", action="store_true")
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("bootstrap", help="run scripts/bootstrap.sh against the local services")
    p.add_argument("extra", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bootstrap)
    sub.add_parser("env", help="print export lines for the local endpoints").set_defaults(func=cmd_env)
    p = sub.add_parser("demo", help="demo rows through to Trino, the DAGs run (views, TSum, catalog), results printed")
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo)
    sub.add_parser("reset", help="stop the stack and wipe every service's data (downloads and secrets kept)"
                   ).set_defaults(func=cmd_reset)
    p = sub.add_parser("backup", help="copy the stopped stack's whole state, and .env, into a new folder "
                                      "(docs/operations.md)")
    p.add_argument("folder", type=Path)
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="put a backup back into the stopped stack's state (after `make reset`)")
    p.add_argument("folder", type=Path)
    p.add_argument("--replace", action="store_true", help="wipe the state's data first")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("stream", help="add a stream from its PostgreSQL table, follow its changes, compact or remove it (docs/adding-a-stream.md)")
    streams = p.add_subparsers(dest="action", required=True)
    q = streams.add_parser("add", help="write the stream's files from the table, apply them, bootstrap")
    q.add_argument("table", help="schema.table in PostgreSQL (public. when no schema is given)")
    q.add_argument("--name", help="the stream's name (default: the table's)")
    q.add_argument("--dry-run", action="store_true", help="print the files, change nothing")
    q = streams.add_parser("sync", help="after ALTER TABLE: new columns into the stream's files and services, "
                                        "existing rows re-sent (incremental snapshot)")
    q.add_argument("stream")
    q = streams.add_parser("remove", help="take the stream out of every service and delete its files")
    q.add_argument("stream")
    q.add_argument("--drop-table", action="store_true", help="drop the source table too (default: keep it)")
    q = streams.add_parser("compact", help="rebuild the stream's Pinot table from its live rows (deleted keys and "
                                           "old versions dropped) while its view keeps serving")
    q.add_argument("stream")
    q.add_argument("--timeout", type=float, default=1800, help="seconds each snapshot and comparison may take")
    p.set_defaults(func=cmd_stream)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

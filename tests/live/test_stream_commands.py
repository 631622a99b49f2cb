"""`platformctl stream add` makes a stream of a table by itself, every value arrives, and
`platformctl stream remove` leaves the platform as it was (docs/adding-a-stream.md).

The table has 18 columns of mixed types (an ENUM, a serial key, defaults, NULLs). Nothing is written
by hand: the command reads the table, writes the six files, applies the capture and bootstraps.
Rows written before (snapshot) and after (streamed), updated and deleted, must then be equal in the
view, value for value, by data_quality's content reconciliation over every column.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from realtime_platform import stream_commands
from realtime_platform.airflow.quality import ViewCheck, run_checks, sql_sides
from realtime_platform.config import REPO_ROOT
from realtime_platform.trino_client import query
from tests.live.conftest import run_bootstrap
from tests.live.fixture_streams import snapshot_changes, stack_snapshot
from tests.live.polling import wait

pytestmark = pytest.mark.live

NAME, TABLE, ENUM = "returns", "public.returns", "public.return_reason"
CTL = [str(REPO_ROOT / ".venv" / "bin" / "platformctl"), "stream"]
DDL = f"""
CREATE TYPE {ENUM} AS ENUM ('damaged', 'wrong size', 'changed mind');
CREATE TABLE {TABLE} (
    return_id     BIGSERIAL PRIMARY KEY,
    order_id      BIGINT NOT NULL,
    line_no       SMALLINT NOT NULL DEFAULT 1,
    quantity      INTEGER,
    refund        NUMERIC(10, 2) NOT NULL,
    fee           NUMERIC(20, 6),
    weight_kg     REAL,
    distance_km   DOUBLE PRECISION,
    restocked     BOOLEAN NOT NULL DEFAULT false,
    reason        {ENUM},
    note          TEXT,
    carrier       VARCHAR(40) NOT NULL DEFAULT 'dhl',
    label_id      UUID,
    attributes    JSONB,
    received_on   DATE,
    pickup_window TIME,
    requested_at  TIMESTAMP(6) NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    refunded_at   TIMESTAMPTZ
)
"""
INSERT = f"""
INSERT INTO {TABLE} (order_id, line_no, quantity, refund, fee, weight_kg, distance_km, restocked, reason, note,
    label_id, attributes, received_on, pickup_window, refunded_at)
SELECT g, 1 + g %% 3, CASE WHEN g %% 5 = 0 THEN NULL ELSE g %% 7 END, g * 1.25, CASE WHEN g %% 4 = 0 THEN NULL
    ELSE 123456789.123456 + g END, (g / 3.0)::real, CASE WHEN g %% 6 = 0 THEN NULL ELSE g * 0.1 END, g %% 2 = 0,
    (ARRAY['damaged', 'wrong size', 'changed mind', NULL])[1 + g %% 4]::{ENUM},
    CASE WHEN g %% 3 = 0 THEN NULL ELSE 'note ' || g || repeat(' ✓', g %% 5) END,
    CASE WHEN g %% 7 = 0 THEN NULL ELSE md5(g::text)::uuid END,
    CASE WHEN g %% 5 = 1 THEN NULL ELSE jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)) END,
    DATE '2026-01-01' + g, TIME '08:00' + g * INTERVAL '1.5 minutes',
    CASE WHEN g %% 2 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-03-29 01:59:59.999999+00' + g * INTERVAL '1 hour' END
FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""
CHANGES = [
    f"UPDATE {TABLE} SET refund = refund + 0.01, note = NULL, restocked = NOT restocked WHERE return_id % 4 = 0",
    f"UPDATE {TABLE} SET reason = NULL, fee = 0.000001, quantity = -2147483647 WHERE return_id % 9 = 0",
    f"DELETE FROM {TABLE} WHERE return_id % 10 = 0",
]


def ctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CTL, *args], capture_output=True, text=True, timeout=900, cwd=REPO_ROOT, check=False)


def drop_source(cfg) -> None:
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {TABLE}")
        pg.execute(f"DROP TYPE IF EXISTS {ENUM}")


def leftovers(cfg) -> None:
    """What an interrupted run may have left."""
    if (REPO_ROOT / "debezium" / f"{NAME}.json").exists():
        stream_commands.remove(cfg, stream_commands.parts(NAME), drop_table=True)
    drop_source(cfg)


@pytest.fixture
def returns_table(bootstrapped):
    cfg = bootstrapped
    leftovers(cfg)
    before = stack_snapshot(cfg, [])
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute(DDL)
        pg.execute(INSERT, {"first": 1, "last": 200})
    yield cfg, before
    leftovers(cfg)


def test_refusals_name_the_column_and_its_type_and_write_nothing(bootstrapped):
    cfg = bootstrapped
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("DROP TABLE IF EXISTS public.no_key, public.tagged")
        pg.execute("CREATE TABLE public.no_key (a INTEGER, b TEXT)")
        pg.execute("CREATE TABLE public.tagged (id BIGINT PRIMARY KEY, tags TEXT[], span INTERVAL)")
    try:
        before = sorted(p for p in REPO_ROOT.rglob("*") if ".state" not in p.parts and ".venv" not in p.parts)
        no_key = ctl("add", "public.no_key")
        tagged = ctl("add", "tagged", "--dry-run")
        print(no_key.stderr, tagged.stderr, sep="\n")
        assert no_key.returncode == 1 and "public.no_key has no primary key" in no_key.stderr
        assert tagged.returncode == 1
        assert "column 'tags'" in tagged.stderr and "text[]" in tagged.stderr, tagged.stderr
        assert "column 'span'" in tagged.stderr and "interval" in tagged.stderr, tagged.stderr
        after = sorted(p for p in REPO_ROOT.rglob("*") if ".state" not in p.parts and ".venv" not in p.parts)
        assert after == before
    finally:
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            pg.execute("DROP TABLE IF EXISTS public.no_key, public.tagged")


def _catalogued(environ: dict) -> set[str]:
    """The stream's datasets the catalog search lists after the recipes that describe streams ran."""
    from realtime_platform.catalog import environment, runner

    environment.run_all(["trino_pinot", "pinot", "trino_hive"], environ)  # as the DAG runs them
    return {urn for urn, _ in runner.search(NAME, environ) if urn.startswith("urn:li:dataset:")}


def test_a_stream_added_by_the_command_alone_carries_every_value_and_removes_cleanly(returns_table, tmp_path):
    cfg, before = returns_table
    dry = ctl("add", TABLE, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    printed = [line.removeprefix("--- ") for line in dry.stdout.splitlines() if line.startswith("--- ")]
    assert len(printed) == 6 and not any((REPO_ROOT / p).exists() for p in printed), printed

    started = time.monotonic()
    added = ctl("add", TABLE)
    print(added.stdout[-3000:], added.stderr[-3000:], sep="\n")
    assert added.returncode == 0, added.stdout[-3000:] + added.stderr[-3000:]
    assert f"connector {NAME}: created" in added.stdout and f"pinot table {NAME}: created" in added.stdout
    files = [Path(line.removeprefix("wrote ")) for line in added.stdout.splitlines() if line.startswith("wrote ")]
    assert sorted(map(str, files)) == sorted(printed)
    for path in files:
        print(f"--- {path} ({len((REPO_ROOT / path).read_text().splitlines())} lines)")

    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:  # streamed, not snapshotted
        pg.execute(INSERT, {"first": 201, "last": 400})
        for change in CHANGES:
            pg.execute(change)
        expected = {k for (k,) in pg.execute(f"SELECT return_id FROM {TABLE}")}
    assert len(expected) == 360
    wait("the view holds every key of the table", lambda: {k for (k,) in query(
        cfg, f"SELECT return_id FROM hive.views.{NAME}")} == expected, 240)

    check = ViewCheck(NAME, TABLE, f"hive.views.{NAME}", ("return_id",))
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        def reconcile():
            sides = sql_sides(fetch_source=lambda sql, params: pg.execute(sql, params or None).fetchall(),
                              fetch_target=lambda sql, params: query(cfg, sql))
            try:
                [result] = run_checks("2026-12-05", *sides, checks=[check], attempts=1)
            except Exception as error:  # noqa: BLE001 -- the last updates may still be on their way
                print("not yet:", str(error)[:300])
                return None
            return result
        result = wait("every value equal", reconcile, 90, 5)
    print(f"stream add to every value equal: {time.monotonic() - started:.0f}s; {result.describe()}")
    assert result.ok and result.differing == 0 and result.missing == result.extra == 0, result.describe()
    assert len(result.columns) == 17, result.columns  # every column but the key, compared value by value

    # A hand-written mistake in the generated files is refused by bootstrap's check against the table.
    table_file = next(REPO_ROOT.glob(f"pinot/tables/*-{NAME}/{NAME}_table.json"))
    written = table_file.read_text()
    table_file.write_text(written.replace("jsonPath(payload, '$.after.refunded_at')",
                                          "jsonPathLong(payload, '$.after.refunded_at', 0)"))
    try:
        refused = run_bootstrap(cfg)
    finally:
        table_file.write_text(written)
    print("bootstrap's refusal:", refused.stderr, sep="\n")
    assert refused.returncode == 2 and "nothing was posted" in refused.stderr, refused.stdout + refused.stderr
    assert (f"{table_file}: column refunded_at: Pinot STRING with jsonPathLong(payload, '$.after.refunded_at', 0) "
            f"does not fit PostgreSQL timestamp with time zone (jsonPathLong cannot read what Debezium sends: "
            f"ISO-8601 text in UTC): "
            f"expected STRING with jsonPath(payload, '$.after.refunded_at')") in refused.stderr, refused.stderr

    # The catalog lists the stream's datasets, and forgets them once the stream is removed (#25).
    catalog = {**os.environ, "DATAHUB_STATE_DIR": str(tmp_path / "datahub")}
    catalog.pop("DATAHUB_GMS_URL", None)
    expected = {f"urn:li:dataset:(urn:li:dataPlatform:{platform},{name},PROD)" for platform, name in (
        ("pinot", NAME), ("kafka", NAME), ("postgres", f"{cfg.postgres_db}.{TABLE}"),
        ("trino", f"pinot.default.{NAME}"), ("trino", f"hive.views.{NAME}"))}
    listed = _catalogued(catalog)
    print("catalog search before the removal:", *sorted(listed), sep="\n  ")
    assert expected <= listed, expected - listed

    removed = ctl("remove", NAME, "--drop-table")
    print(removed.stdout)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    drop_source(cfg)
    snapshot_changes(before, stack_snapshot(cfg, files), NAME)
    listed = _catalogued(catalog)
    print("catalog search after the removal:", *sorted(listed), sep="\n  ")
    assert not listed, listed


SYNCED, SYNCED_TABLE = "tickets", "public.tickets"
BEFORE_ROWS = 5000


class SteadyWriter(threading.Thread):
    """Inserts a row and updates another, about 20 times a second, until stopped; once `altered` is
    set, it writes the new column `note` too."""

    def __init__(self, cfg):
        super().__init__(daemon=True)
        self.cfg, self.stop, self.altered, self.writes, self.error = cfg, threading.Event(), threading.Event(), 0, None

    def run(self):
        try:
            with psycopg.connect(self.cfg.postgres_dsn(), autocommit=True) as pg:
                while not self.stop.is_set():
                    pg.execute(f"INSERT INTO {SYNCED_TABLE} (status, amount) VALUES ('new', 1.50)")
                    key = random.randint(1, BEFORE_ROWS)
                    if self.altered.is_set():
                        pg.execute(f"UPDATE {SYNCED_TABLE} SET status = 'touched', note = 'written ' || now() "
                                   f"WHERE id = %s", (key,))
                    else:
                        pg.execute(f"UPDATE {SYNCED_TABLE} SET status = 'touched' WHERE id = %s", (key,))
                    self.writes += 2
                    time.sleep(0.05)
        except Exception as error:  # noqa: BLE001 -- reported by the test
            self.error = error


def reconcile(cfg, name: str, table: str, key: str):
    check = ViewCheck(name, table, f"hive.views.{name}", (key,))
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        sides = sql_sides(fetch_source=lambda sql, params: pg.execute(sql, params or None).fetchall(),
                          fetch_target=lambda sql, params: query(cfg, sql))
        [result] = run_checks("2026-12-05", *sides, checks=[check], attempts=1)
    return result


def wait_equal(cfg, name: str, table: str, key: str, timeout_s: float = 180):
    def attempt():
        try:
            return reconcile(cfg, name, table, key)
        except Exception as error:  # noqa: BLE001 -- CDC may still be catching up
            print("not yet:", str(error)[:200])
            return None
    return wait(f"{name} equal to {table}, every value", attempt, timeout_s, 5)


@pytest.fixture
def tickets(bootstrapped):
    cfg = bootstrapped

    def clean():
        if (REPO_ROOT / "debezium" / f"{SYNCED}.json").exists():
            stream_commands.remove(cfg, stream_commands.parts(SYNCED), drop_table=True)
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            pg.execute(f"DROP TABLE IF EXISTS {SYNCED_TABLE}")

    clean()
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute(f"CREATE TABLE {SYNCED_TABLE} (id BIGSERIAL PRIMARY KEY, status TEXT NOT NULL, "
                   f"amount NUMERIC(10, 2) NOT NULL, opened_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        pg.execute(f"INSERT INTO {SYNCED_TABLE} (status, amount) SELECT 'open', g / 100.0 "
                   f"FROM generate_series(1, {BEFORE_ROWS}) AS g")
    added = ctl("add", SYNCED_TABLE)
    assert added.returncode == 0, added.stdout[-2000:] + added.stderr[-2000:]
    wait_equal(cfg, SYNCED, SYNCED_TABLE, "id")
    yield cfg
    clean()


def test_sync_follows_add_and_drop_column_under_steady_writes(tickets):
    cfg = tickets
    writer = SteadyWriter(cfg)
    writer.start()
    try:
        wait("the writer's changes before the ALTER", lambda: writer.writes >= 60 or writer.error, 30, 0.1)
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            pg.execute(f"ALTER TABLE {SYNCED_TABLE} ADD COLUMN priority INTEGER NOT NULL DEFAULT 3, "
                       f"ADD COLUMN note TEXT")
            writer.altered.set()
            # Old rows changed right after the ALTER, before the stream follows: the snapshot must mend them.
            pg.execute(f"UPDATE {SYNCED_TABLE} SET priority = 1, note = 'early' WHERE id %% 10 = 0 AND id <= %s",
                       (BEFORE_ROWS,))
        started = time.monotonic()
        synced = ctl("sync", SYNCED)
        took = time.monotonic() - started
        print(synced.stdout[-4000:], synced.stderr[-2000:], sep="\n")
        assert synced.returncode == 0, synced.stdout[-4000:] + synced.stderr[-2000:]
        assert "column added: priority integer" in synced.stdout and "column added: note text" in synced.stdout
        assert "incremental snapshot of public.tickets: done" in synced.stdout
        written = writer.writes  # writes go on after the sync, into the new columns
        wait("the writer's changes after the sync", lambda: writer.writes >= written + 100 or writer.error, 30, 0.1)
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    print(f"stream sync under {writer.writes} writes: {took:.0f}s")

    result = wait_equal(cfg, SYNCED, SYNCED_TABLE, "id")
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        rows = pg.execute(f"SELECT count(*), count(*) FILTER (WHERE id <= {BEFORE_ROWS}) FROM {SYNCED_TABLE}").fetchone()
    view_old = query(cfg, f"SELECT count(*), count(*) FILTER (WHERE priority = 1), "
                          f"count(*) FILTER (WHERE priority = 3) FROM hive.views.{SYNCED} WHERE id <= {BEFORE_ROWS}")[0]
    print(f"rows before {BEFORE_ROWS}, after {rows[0]}; old rows in the view {view_old[0]} "
          f"(priority 1: {view_old[1]}, 3: {view_old[2]}); {result.describe()}")
    assert rows[0] > BEFORE_ROWS and result.source_rows == result.target_rows == rows[0]
    assert result.ok and result.differing == result.missing == result.extra == result.duplicate_target == 0
    assert {"priority", "note"} <= set(result.columns), result.columns
    assert view_old == (BEFORE_ROWS, BEFORE_ROWS // 10, BEFORE_ROWS - BEFORE_ROWS // 10)

    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute(f"ALTER TABLE {SYNCED_TABLE} DROP COLUMN note")
        pg.execute(f"UPDATE {SYNCED_TABLE} SET status = 'after drop' WHERE id <= 10")
    dropped = ctl("sync", SYNCED)
    print(dropped.stdout[-2000:])
    assert dropped.returncode == 0, dropped.stdout[-3000:] + dropped.stderr[-2000:]
    assert "column dropped: note" in dropped.stdout
    columns = [c for (c,) in query(cfg, f"SELECT column_name FROM hive.information_schema.columns "
                                        f"WHERE table_schema = 'views' AND table_name = '{SYNCED}'")]
    assert "note" not in columns and "priority" in columns, columns
    result = wait_equal(cfg, SYNCED, SYNCED_TABLE, "id")
    assert result.ok and "note" not in result.columns

"""Changes at the source that must not disturb the stream: a new column, a quiet database."""

from __future__ import annotations

import psycopg
import pytest

from realtime_platform.trino_client import query
from tests.live.polling import wait

pytestmark = pytest.mark.live


def test_new_nullable_column_flows_through_the_json_source(bootstrapped):
    """A column added in Postgres reaches Pinot inside the `source` JSON at once; exposing it in
    the view is a one-line change to dags/sql/views/person.sql (json_extract_scalar)."""
    cfg = bootstrapped
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE person ADD COLUMN IF NOT EXISTS nickname TEXT")
        try:
            (new_id,) = conn.execute("INSERT INTO person (customer_id, name, nickname) "
                                     "VALUES (7, 'Schema Change', 'sc') RETURNING id").fetchone()
            (old_style_id,) = conn.execute("INSERT INTO person (customer_id, name) VALUES (7, 'No Nickname') "
                                           "RETURNING id").fetchone()

            def both_rows() -> dict | None:
                rows = dict(query(cfg, "SELECT id, json_extract_scalar(source, '$.nickname') FROM "
                                       f"pinot.default.person WHERE id IN ({new_id}, {old_style_id})"))
                return rows if len(rows) == 2 else None

            rows = wait("the rows written after ALTER TABLE in Pinot", both_rows, 90, every_s=1)
            assert rows == {new_id: "sc", old_style_id: None}
            names = dict(query(cfg, f"SELECT id, name FROM hive.views.person WHERE id IN ({new_id}, {old_style_id})"))
            assert names == {new_id: "Schema Change", old_style_id: "No Nickname"}
        finally:
            conn.execute("ALTER TABLE person DROP COLUMN IF EXISTS nickname")


def test_replication_slot_does_not_pin_wal_while_captured_tables_are_quiet(bootstrapped):
    """WAL written elsewhere (another database) while person/orders are quiet: the heartbeat action
    query makes Debezium confirm newer LSNs, so the slot's retained WAL stays small."""
    cfg = bootstrapped
    lag_sql = ("SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) "
               "FROM pg_replication_slots WHERE slot_name LIKE 'debezium_%'")
    written = 24_000_000
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as app, \
            psycopg.connect(cfg.postgres_dsn().replace(f"dbname={cfg.postgres_db}", "dbname=postgres"),
                            autocommit=True) as other:
        other.execute("CREATE TABLE IF NOT EXISTS wal_filler (payload TEXT)")
        try:
            other.execute(f"INSERT INTO wal_filler SELECT repeat('x', 1000) FROM generate_series(1, {written // 1000})")
            pinned = dict(app.execute(lag_sql).fetchall())
            assert set(pinned) == {"debezium_person", "debezium_orders"}
            assert min(pinned.values()) > written / 2, f"the filler made too little WAL: {pinned}"
            # Debezium's heartbeat (every 5 s) confirms a newer LSN although the captured tables are quiet.
            wait("every slot confirms past the other database's WAL",
                 lambda: max(dict(app.execute(lag_sql).fetchall()).values()) < written / 4, 60, every_s=1)
        finally:
            other.execute("DROP TABLE IF EXISTS wal_filler")

"""Changes at the source that must not disturb the stream: a new column, a quiet database."""

from __future__ import annotations

import time

import psycopg
import pytest

from realtime_platform.trino_client import query

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
            deadline = time.monotonic() + 90
            while True:
                rows = dict(query(cfg, "SELECT id, json_extract_scalar(source, '$.nickname') FROM "
                                       f"pinot.default.person WHERE id IN ({new_id}, {old_style_id})"))
                if len(rows) == 2:
                    break
                assert time.monotonic() < deadline, "rows after ALTER TABLE did not arrive"
                time.sleep(1)
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
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as app, \
            psycopg.connect(cfg.postgres_dsn().replace(f"dbname={cfg.postgres_db}", "dbname=postgres"),
                            autocommit=True) as other:
        other.execute("CREATE TABLE IF NOT EXISTS wal_filler (payload TEXT)")
        written = 0
        samples = []
        for _ in range(12):  # a quiet minute for the captured tables
            other.execute("INSERT INTO wal_filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)")
            written += 2000 * 1000
            time.sleep(5)
            samples.append(dict(app.execute(lag_sql).fetchall()))
        other.execute("DROP TABLE wal_filler")
    final = samples[-1]
    assert set(final) == {"debezium_person", "debezium_orders"}
    for slot, lag in final.items():
        assert lag < written / 4, f"{slot} retains {lag} bytes of WAL after {written} bytes were written: " \
                                  f"samples {[s[slot] for s in samples]}"

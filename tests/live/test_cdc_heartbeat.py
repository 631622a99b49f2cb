"""Heartbeats keep the replication slots moving while their tables are quiet: writes to a table no
connector captures fill the WAL, and each slot must still confirm past them within a few
heartbeat intervals (the known WAL-growth case of logical replication)."""

from __future__ import annotations

import psycopg
import pytest

from realtime_platform import cdc_health
from tests.live.polling import wait

pytestmark = pytest.mark.live

NOISE_ROWS = 200_000  # about 40 MiB of WAL in a table outside every publication
SETTLED_BYTES = 4 << 20  # what may still be unconfirmed once heartbeats have run
HEARTBEAT_S = 5  # debezium/*.json heartbeat.interval.ms


def slot_lags(conn) -> dict[str, int]:
    return {s.name: s.lag_bytes for s in cdc_health.slot_lags(conn.execute(cdc_health.SLOT_LAG_SQL).fetchall())}


def test_slots_advance_past_writes_to_uncaptured_tables(bootstrapped):
    with psycopg.connect(bootstrapped.postgres_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.wal_noise (id bigint, pad text)")
        try:
            conn.execute(f"INSERT INTO public.wal_noise SELECT g, repeat('x', 150) "
                         f"FROM generate_series(1, {NOISE_ROWS}) AS g")
            written = slot_lags(conn)
            assert written and max(written.values()) > 16 << 20, f"the noise made too little WAL: {written}"
            lags = wait("every slot caught up", lambda: (lags := slot_lags(conn))
                        and max(lags.values()) <= SETTLED_BYTES and lags, 12 * HEARTBEAT_S, 1,
                        explain=lambda: slot_lags(conn))
            print(f"slot lag right after the noise: {written}; settled: {lags}")
        finally:
            conn.execute("DROP TABLE IF EXISTS public.wal_noise")

"""kill -9 of one service while changes stream in: once the stack is healthy again, the Trino view
equals Postgres exactly (no lost rows, no duplicate keys, no resurrected deletes).

Each case: a mixed insert/update/delete stream runs for STREAM_S seconds; a few seconds in, the
service's whole process group gets SIGKILL; supervisord restarts it (an unexpected exit); the test
waits for health, then for the view to converge, and records the numbers in the fault report.
"""

from __future__ import annotations

import threading
import time
import zlib

import psycopg
import pytest

from realtime_platform.generator import PersonGenerator
from realtime_platform.local import supervisor
from realtime_platform.local.health import wait_until_healthy
from realtime_platform.local.paths import state_paths
from realtime_platform.local.stack import all_services
from realtime_platform.trino_client import query
from tests.live import supervised
from tests.live.polling import STACK_TRANSIENT, wait

pytestmark = pytest.mark.live

STREAM_S = 20
KILL_AFTER_S = 6
RATE = 40  # operations per second
CONVERGE_S = 240


class ResilientStream(threading.Thread):
    """The generator's mixed stream, reconnecting when Postgres itself is the one killed."""

    def __init__(self, dsn: str, seed: int):
        super().__init__(daemon=True)
        self.dsn, self.seed, self.errors = dsn, seed, 0

    def run(self) -> None:
        deadline = time.monotonic() + STREAM_S
        gen = None
        while time.monotonic() < deadline:
            try:
                if gen is None:
                    gen = PersonGenerator(psycopg.connect(self.dsn, autocommit=True), seed=self.seed)
                gen.rng.choices((gen.insert, gen.update, gen.delete), weights=(6, 3, 1))[0]()
            except psycopg.Error:
                self.errors += 1
                gen = None
                time.sleep(0.5)
            time.sleep(1 / RATE)


def compare(cfg) -> tuple[int, int, int, int, int]:
    """(rows expected, rows seen, duplicate keys, missing, extra)."""
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        expected = {(i, c): n for i, c, n in conn.execute("SELECT id, customer_id, name FROM person")}
    rows = query(cfg, "SELECT id, customer_id, name FROM hive.views.person")
    seen = {(i, c): n for i, c, n in rows}
    missing = len(set(expected) - set(seen)) + sum(1 for k in set(expected) & set(seen) if expected[k] != seen[k])
    return len(expected), len(rows), len(rows) - len(seen), missing, len(set(seen) - set(expected))


@pytest.mark.parametrize("victim", ["connect", "kafka", "pinot", "trino", "postgres"])
def test_kill_9_loses_and_duplicates_nothing(bootstrapped, victim, fault_report):
    cfg = bootstrapped
    service = next(s for s in all_services(cfg, state_paths(cfg)) if s.name == victim)
    stream = ResilientStream(cfg.postgres_dsn(), seed=zlib.crc32(victim.encode()) % 10_000)  # same stream every run
    stream.start()
    time.sleep(KILL_AFTER_S)
    killed_at = time.monotonic()
    server = supervisor.rpc(state_paths(cfg)).supervisor
    supervised.wait_respawned(server, victim, supervised.kill(server, victim))
    wait_until_healthy(victim, service.health, service.start_timeout_s)
    stream.join()

    last: tuple[int, int, int, int, int] = (-1, -1, -1, -1, -1)

    def converged() -> bool:
        nonlocal last
        last = compare(cfg)
        return last[2:] == (0, 0, 0)

    try:
        wait(f"the view equal to PostgreSQL after kill -9 {victim}", converged, CONVERGE_S, 2,
             transient=STACK_TRANSIENT, explain=lambda: "expected {}, seen {}, duplicates {}, missing/stale {}, "
                                                        "extra {}".format(*last))
    except AssertionError:
        fault_report.append((f"kill -9 {victim}", last[0], last[1], last[2], "not converged"))
        raise
    expected, seen, duplicates, _, _ = last
    fault_report.append((f"kill -9 {victim}", expected, seen, duplicates,
                         f"{time.monotonic() - killed_at:.0f}s"))

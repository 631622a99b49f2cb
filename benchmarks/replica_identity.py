"""What REPLICA IDENTITY FULL costs, against DEFAULT, for UPDATEs that leave a large value untouched.

FULL is how the platform keeps TOASTed values exact (docs/decisions.md). This measures, on a private
PostgreSQL cluster of the platform's own binaries (so it needs no running stack and disturbs none):
  - the time of `UPDATE ... SET n = n + 1` over every row,
  - the WAL it writes (pg_current_wal_lsn before and after),
  - what logical decoding hands Debezium for it: pgoutput's bytes, and the time to decode them.

    .venv/bin/python benchmarks/replica_identity.py --rows 20000

By default every second row carries a ~9.6 kB text (TOASTed), like the all_types test stream;
`--large-every 0` gives rows of small values only, like the orders stream.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from realtime_platform.local.services.os_setup import ensure_os_user
from realtime_platform.local.services.postgres import POSTGRES_OS_USER, pg_bin

PORT = 55439


def _run_as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", POSTGRES_OS_USER, "--", *args], check=True, capture_output=True)


def start_cluster(folder: Path) -> None:
    ensure_os_user(POSTGRES_OS_USER)
    shutil.chown(folder, POSTGRES_OS_USER)
    data = folder / "data"
    _run_as_postgres(str(pg_bin() / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    _run_as_postgres(str(pg_bin() / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
                     "-o", f"-p {PORT} -k {folder} -c listen_addresses='' -c wal_level=logical "
                           "-c max_wal_size=4GB -c checkpoint_timeout=1h")


def stop_cluster(folder: Path) -> None:
    _run_as_postgres(str(pg_bin() / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "stop")


def measure(conn: psycopg.Connection, identity: str, rows: int, large_every: int) -> dict[str, float]:
    table = f"t_{identity.lower()}"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, n int NOT NULL, body text NOT NULL)")
    conn.execute(f"ALTER TABLE {table} REPLICA IDENTITY {identity}")
    large = f"g % {large_every} = 0" if large_every else "false"
    conn.execute(f"""INSERT INTO {table} SELECT g, 0, CASE WHEN {large}
        THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 300) AS i)
        ELSE 'short ' || g END FROM generate_series(1, {rows}) AS g""")
    conn.execute(f"CREATE PUBLICATION p_{table} FOR TABLE {table}")
    conn.execute(f"SELECT pg_create_logical_replication_slot('s_{table}', 'pgoutput')")
    conn.execute("CHECKPOINT")
    start_lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    started = time.perf_counter()
    conn.execute(f"UPDATE {table} SET n = n + 1")
    update_s = time.perf_counter() - started
    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (start_lsn,)).fetchone()[0]
    started = time.perf_counter()
    decoded = conn.execute(
        f"SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM pg_logical_slot_get_binary_changes("
        f"'s_{table}', NULL, NULL, 'proto_version', '1', 'publication_names', 'p_{table}')").fetchone()
    decode_s = time.perf_counter() - started
    conn.execute(f"SELECT pg_drop_replication_slot('s_{table}')")
    return {"update_s": update_s, "wal_bytes": float(wal), "messages": decoded[0],
            "decoded_bytes": float(decoded[1]), "decode_s": decode_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--large-every", type=int, default=2, help="every Nth row holds the large text; 0: none")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="replica-identity-"))
    start_cluster(folder)
    try:
        with psycopg.connect(host=str(folder), port=PORT, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            results = {identity: measure(conn, identity, args.rows, args.large_every) for identity in ("DEFAULT", "FULL")}
    finally:
        stop_cluster(folder)
        shutil.rmtree(folder, ignore_errors=True)
    share = f"1 row in {args.large_every}" if args.large_every else "no row"
    print(f"UPDATE of {args.rows:,} rows, one small column; {share} holds a ~9.6 kB TOASTed text")
    print(f"{'identity':<10}{'update s':>10}{'rows/s':>10}{'WAL MB':>9}{'WAL B/row':>11}"
          f"{'pgoutput MB':>13}{'decode s':>10}")
    for identity, r in results.items():
        print(f"{identity:<10}{r['update_s']:>10.2f}{args.rows / r['update_s']:>10,.0f}"
              f"{r['wal_bytes'] / 1e6:>9.1f}{r['wal_bytes'] / args.rows:>11,.0f}"
              f"{r['decoded_bytes'] / 1e6:>13.1f}{r['decode_s']:>10.2f}")
    default, full = results["DEFAULT"], results["FULL"]
    print(f"FULL / DEFAULT: update time x{full['update_s'] / default['update_s']:.2f}, "
          f"WAL x{full['wal_bytes'] / default['wal_bytes']:.2f}, "
          f"decoded bytes x{full['decoded_bytes'] / default['decoded_bytes']:.2f}")


if __name__ == "__main__":
    main()

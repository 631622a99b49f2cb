"""Soak: a sustained mix of inserts, updates and deletes on `orders`, with the platform sampled as it
runs, to show what grows with the number of changes rather than with the live data (#23).

    .venv/bin/python benchmarks/soak.py --live-keys 1000000 --changes 10000000 --rate 5000
    .venv/bin/python benchmarks/soak.py --live-keys 100000 --duration 1200 --rate 3000 --out soak-out

The writer keeps `--live-keys` orders alive: each second it updates a sweep of keys (70 % of the
changes), deletes the oldest keys and inserts as many new ones (15 % each), paced to `--rate`
changes/s, until `--changes` or `--duration`. A probe thread inserts one `person` row every
`--probe-every` seconds and times it until Pinot's broker returns it (freshness). Every `--sample`
seconds a row goes to `<out>/soak.csv`:
- changes made, and the writer's and Pinot's ingestion rates over the window;
- freshness p95 and max of the window's probes;
- per Pinot table: documents (every version, `skipUpsert`), keys held (deleted ones too: Pinot 0.11
  soft-deletes) and live rows;
- per service: RSS; per JVM service: old generation used (`jstat`; it drops only at a GC, so it
  bounds the live heap from above); per Pinot server: its heap after GC (as `platformctl status`);
- per data folder: bytes on disk.
With `--compact-above SHARE`, `platformctl stream compact orders` runs (realtime_platform/compaction.py)
whenever the orders table's dead share passes SHARE, while the writer goes on; its output goes to
`<out>/compaction.log` and the samples say when it ran (`compacting`).
At the end it prints the growth per million changes, and `<out>/soak.png` when matplotlib is there
(`pip install matplotlib`). Needs the running, bootstrapped local stack (`make up`). The soak's
orders stay in the table; its probes are deleted.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

from realtime_platform import pinot_capacity
from realtime_platform.config import settings
from realtime_platform.local.paths import state_paths
from realtime_platform.local.stack import status

ADD_SQL = """
INSERT INTO public.orders (customer_id, status, channel, country, amount, created_at, updated_at)
SELECT g %% 50000, (ARRAY['placed','paid','shipped','delivered'])[1 + g %% 4], 'web', 'DE', (g %% 10000) / 100.0,
       now() AT TIME ZONE 'utc' - make_interval(days => (1 + g %% 300)::int), now() AT TIME ZONE 'utc'
FROM generate_series(1, %(rows)s::bigint) AS g
"""
UPDATE_SQL = """
UPDATE public.orders SET amount = amount + 0.01, updated_at = now() AT TIME ZONE 'utc'
WHERE order_id >= %(start)s AND order_id < %(start)s::bigint + %(rows)s::bigint
"""
DELETE_SQL = """
DELETE FROM public.orders WHERE order_id IN (SELECT order_id FROM public.orders ORDER BY order_id LIMIT %(rows)s::bigint)
"""
TABLES = ("orders", "person")


def pinot_count(broker_url: str, sql: str) -> int:
    answer = requests.post(f"{broker_url}/query/sql", json={"sql": sql}, timeout=60).json()
    if answer.get("exceptions"):
        raise RuntimeError(f"Pinot: {answer['exceptions'][0].get('message', '')[:300]}")
    return int(answer["resultTable"]["rows"][0][0])


def pinot_counts(cfg) -> dict[str, int]:
    """Documents, keys held and live rows per table; each Pinot server's upsert keys and heap after GC."""
    out = {}
    for table in TABLES:
        capacity = pinot_capacity.table_capacity(cfg.pinot_broker.url, table)
        out.update({f"{table}_docs": capacity.documents, f"{table}_keys": capacity.keys, f"{table}_live": capacity.live})
    for heap in pinot_capacity.server_heaps(cfg.pinot_server_metrics_urls):
        out[f"pinot_heap_after_gc_mb_{heap.server}"] = round(heap.used_after_gc / 2**20)
    return out


def old_gen_used_mb(pid: int) -> float | None:
    """jstat's OU of a JVM (the java binary's own jstat), in MB; None for other processes."""
    try:
        exe = Path(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return None
    jstat = exe.parent / "jstat"
    if exe.name != "java" or not jstat.exists():
        return None
    result = subprocess.run([str(jstat), "-gc", str(pid)], capture_output=True, text=True, timeout=30, check=False)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) < 2 or "OU" not in lines[0].split():
        return None
    header, values = lines[0].split(), lines[1].split()
    return float(values[header.index("OU")]) / 1024


def disk_mb(folder: Path) -> float:
    return sum(f.lstat().st_blocks * 512 for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


class Writer(threading.Thread):
    """The change mix on orders, paced to `rate` changes/s."""

    def __init__(self, dsn: str, live_keys: int, rate: float, changes: int, duration_s: float):
        super().__init__(daemon=True)
        self.dsn, self.live_keys, self.rate = dsn, live_keys, rate
        self.limit, self.deadline = changes, time.monotonic() + duration_s
        self.changes = 0
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                held = conn.execute("SELECT count(*) FROM public.orders").fetchone()[0]
                if held < self.live_keys:
                    print(f"  loading {self.live_keys - held:,} orders to reach {self.live_keys:,} live keys", flush=True)
                    conn.execute(ADD_SQL, {"rows": self.live_keys - held})
                low, high = conn.execute("SELECT min(order_id), max(order_id) FROM public.orders").fetchone()
                sweep = low
                while not self.stop.is_set() and self.changes < self.limit and time.monotonic() < self.deadline:
                    tick = time.monotonic()
                    per_second = int(self.rate)
                    churn = max(1, per_second * 15 // 100)
                    updated = conn.execute(UPDATE_SQL, {"start": sweep, "rows": per_second - 2 * churn}).rowcount
                    sweep = low if sweep > high else sweep + per_second - 2 * churn
                    deleted = conn.execute(DELETE_SQL, {"rows": churn}).rowcount
                    inserted = conn.execute(ADD_SQL, {"rows": churn}).rowcount
                    low, high = conn.execute("SELECT min(order_id), max(order_id) FROM public.orders").fetchone()
                    sweep = max(sweep, low)
                    self.changes += updated + deleted + inserted
                    self.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            self.error = error


class Probes(threading.Thread):
    """One person row every `every_s`, timed from its commit until Pinot's broker returns it."""

    def __init__(self, dsn: str, broker_url: str, every_s: float):
        super().__init__(daemon=True)
        self.dsn, self.broker_url, self.every_s = dsn, broker_url, every_s
        self.latencies: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                name = f"soak probe {uuid.uuid4().hex[:12]}"
                [(probe_id,)] = conn.execute("INSERT INTO person (customer_id, name) VALUES (0, %s) RETURNING id",
                                             (name,)).fetchall()
                committed = time.monotonic()
                sql = f"SELECT count(*) FROM person WHERE id = {int(probe_id)}"
                while time.monotonic() - committed < 120 and not self.stop.is_set():
                    if pinot_count(self.broker_url, sql):
                        self.latencies.append(time.monotonic() - committed)
                        break
                    time.sleep(0.1)
                self.stop.wait(max(0.0, self.every_s - (time.monotonic() - committed)))
            conn.execute("DELETE FROM person WHERE name LIKE 'soak probe %'")

    def take(self) -> list[float]:
        taken, self.latencies = self.latencies, []
        return taken


class Compactions(threading.Thread):
    """Compacts `orders` each time it is asked to (`due`), one at a time, logging to a file."""

    def __init__(self, cfg, log: Path):
        super().__init__(daemon=True)
        self.cfg, self.log = cfg, log
        self.due, self.running, self.stop = threading.Event(), threading.Event(), threading.Event()
        self.done: list[float] = []  # seconds each compaction took
        self.error: Exception | None = None

    def run(self) -> None:
        from realtime_platform import compaction

        with self.log.open("a") as out:
            while not self.stop.is_set():
                if not self.due.wait(1):
                    continue
                self.running.set()
                started = time.monotonic()
                try:
                    compaction.compact(compaction.cli_services(self.cfg), "orders",
                                       log=lambda line: print(line, file=out, flush=True))
                    self.done.append(time.monotonic() - started)
                except Exception as error:  # noqa: BLE001 -- reported at the end; the soak goes on
                    self.error = error
                    print(f"compaction failed: {error!r}", file=out, flush=True)
                    return
                finally:
                    self.due.clear()
                    self.running.clear()


def sample(cfg, writer: Writer, probes: Probes, started: float, last: dict,
           compactions: Compactions | None = None) -> dict:
    paths = state_paths(cfg)
    row: dict = {"elapsed_s": round(time.monotonic() - started), "changes": writer.changes,
                 "compacting": int(bool(compactions and compactions.running.is_set()))}
    counts = pinot_counts(cfg)
    window = max(1e-9, time.monotonic() - last.get("at", started))
    row["changes_per_s"] = round((writer.changes - last.get("changes", 0)) / window)
    row["ingested_per_s"] = round((counts["orders_docs"] - last.get("orders_docs", counts["orders_docs"])) / window)
    latencies = probes.take()
    row["freshness_p95_s"] = round(statistics.quantiles(latencies, n=20)[-1], 2) if len(latencies) >= 2 else ""
    row["freshness_max_s"] = round(max(latencies), 2) if latencies else ""
    row.update(counts)
    for service in status(cfg):
        row[f"rss_mb_{service.name}"] = round(service.rss_bytes / 2**20)
        if service.pid:
            used = old_gen_used_mb(service.pid)
            if used is not None:
                row[f"old_used_mb_{service.name}"] = round(used)
    for folder in sorted(p for p in paths.data.iterdir() if p.is_dir()):
        row[f"disk_mb_{folder.name}"] = round(disk_mb(folder))
    last.update(at=time.monotonic(), changes=writer.changes, orders_docs=counts["orders_docs"])
    return row


def growth(rows: list[dict]) -> list[tuple[str, float, float, float]]:
    """(column, first, last, change per 10^6 changes) of the columns that describe size."""
    first, final = rows[0], rows[-1]
    millions = max(1e-9, (final["changes"] - first["changes"]) / 1e6)
    columns = [c for c in final if c.endswith(("_docs", "_keys", "_live"))
               or c.startswith(("rss_mb_", "old_used_mb_", "pinot_heap_after_gc_mb_", "disk_mb_"))]
    return [(c, first.get(c, 0), final[c], (final[c] - (first.get(c) or 0)) / millions)
            for c in columns if isinstance(final[c], (int, float))]


def plot(rows: list[dict], target: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    changes = [r["changes"] / 1e6 for r in rows]
    figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    panels = (("Pinot documents and keys", ("orders_docs", "orders_keys", "orders_live")),
              ("JVM old generation used, MB", tuple(c for c in rows[-1]
                                                    if c.startswith(("old_used_mb_", "pinot_heap_after_gc_mb_")))),
              ("disk, MB", tuple(c for c in rows[-1] if c.startswith("disk_mb_"))),
              ("freshness p95 s / ingested rows/s (÷1000)", ("freshness_p95_s", "ingested_per_s")))
    for axis, (title, columns) in zip(axes.flat, panels):
        for column in columns:
            values = [r.get(column) for r in rows]
            if column == "ingested_per_s":
                values = [v / 1000 if isinstance(v, (int, float)) else None for v in values]
            axis.plot(changes, [v if isinstance(v, (int, float)) else float("nan") for v in values], label=column)
        for changed, compacting in zip(changes, (r.get("compacting") for r in rows)):
            if compacting:
                axis.axvline(changed, color="grey", alpha=0.3, linewidth=4)
        axis.set_title(title + (" (grey: compacting)" if any(r.get("compacting") for r in rows) else ""))
        axis.legend(fontsize=7)
    for axis in axes[-1]:
        axis.set_xlabel("changes (millions)")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live-keys", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=10_000_000, help="stop after this many changes")
    parser.add_argument("--duration", type=float, default=4 * 3600, help="stop after this many seconds")
    parser.add_argument("--rate", type=float, default=5000, help="changes per second")
    parser.add_argument("--sample", type=float, default=30, help="seconds between samples")
    parser.add_argument("--probe-every", type=float, default=2, help="seconds between freshness probes")
    parser.add_argument("--out", type=Path, default=Path("soak-out"))
    parser.add_argument("--compact-above", type=float, default=None,
                        help="compact orders whenever its dead share passes this (e.g. 0.8)")
    args = parser.parse_args()
    cfg = settings()
    args.out.mkdir(parents=True, exist_ok=True)
    writer = Writer(cfg.postgres_dsn(), args.live_keys, args.rate, args.changes, args.duration)
    probes = Probes(cfg.postgres_dsn(), cfg.pinot_broker.url, args.probe_every)
    compactions = None
    if args.compact_above is not None:
        compactions = Compactions(cfg, args.out / "compaction.log")
        compactions.start()
    started, last, rows = time.monotonic(), {}, []
    rows.append(sample(cfg, writer, probes, started, last, compactions))
    writer.start()
    probes.start()
    try:
        while writer.is_alive():
            writer.join(args.sample)
            rows.append(sample(cfg, writer, probes, started, last, compactions))
            r = rows[-1]
            documents = r["orders_docs"]
            if compactions and documents and 1 - r["orders_live"] / documents >= args.compact_above:
                compactions.due.set()
            print(f"  {r['elapsed_s']:>6}s  {r['changes']:>11,} changes  {r['changes_per_s']:>6}/s written  "
                  f"{r['ingested_per_s']:>6}/s ingested  p95 {r['freshness_p95_s']}s  "
                  f"orders: {r['orders_docs']:,} docs, {r['orders_keys']:,} keys, {r['orders_live']:,} live"
                  + ("  (compacting)" if r["compacting"] else ""), flush=True)
    finally:
        writer.stop.set()
        if compactions:
            compactions.stop.set()
        probes.stop.set()
        probes.join(150)
        columns = list(dict.fromkeys(c for r in rows for c in r))
        with (args.out / "soak.csv").open("w", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=columns)
            out.writeheader()
            out.writerows(rows)
    if writer.error:
        raise SystemExit(f"the writer failed: {writer.error}")
    if compactions:
        print(f"compactions: {len(compactions.done)}, "
              f"{', '.join(f'{s:.0f}s' for s in compactions.done) or '-'} (log: {args.out / 'compaction.log'})")
        if compactions.error:
            raise SystemExit(f"a compaction failed: {compactions.error}")
    print(f"\n{'measure':<34}{'start':>14}{'end':>14}{'per 10^6 changes':>20}")
    for column, first, final, per_million in growth(rows):
        print(f"{column:<34}{first:>14,}{final:>14,}{per_million:>20,.0f}")
    print(f"\nsamples: {args.out / 'soak.csv'}"
          + (f"; plot: {args.out / 'soak.png'}" if plot(rows, args.out / "soak.png") else
             " (no plot: pip install matplotlib)"))


if __name__ == "__main__":
    main()

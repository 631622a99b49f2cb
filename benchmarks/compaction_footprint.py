"""Pinot's footprint after a compaction against a freshly loaded table of the same live rows (#23's
target: heap and disk within 20 %).

    .venv/bin/python benchmarks/compaction_footprint.py --live-keys 200000 --rate 3000 --history 300

Four states of `orders`, each measured the same way:
- fresh: compacted with nothing written meanwhile, so it holds every live row once, as a table
  freshly loaded from them does;
- history: after `--history` seconds of the soak's change mix (benchmarks/soak.py's writer: 70 %
  updates, 15 % deletes, 15 % inserts) at `--rate` changes/s;
- compacted under writes: compacted while the writer goes on; measured right after it ends;
- compacted quiet: the writer stopped, compacted once more.
Measured: documents, keys held and live rows (Pinot's broker); the Pinot server's heap after a full
GC (`jcmd <pid> GC.run`, then its metrics page, as `platformctl status` reads it); the bytes on disk
of the server's `orders` segments. Without `jcmd` (a Java runtime, no JDK) the heap is the last GC's
reading, and the output says so. Needs the running, bootstrapped single-process stack (`make up`)
and the orders view (`create_views`, as the demo runs it). The orders it writes stay.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from soak import Writer, disk_mb  # benchmarks/soak.py: the same change mix and disk reading

from realtime_platform import compaction, pinot_capacity
from realtime_platform.config import settings
from realtime_platform.local.paths import state_paths
from realtime_platform.local.stack import status
from realtime_platform.polling import wait

TABLE = "orders"


@dataclass
class Footprint:
    state: str
    documents: int
    keys: int
    live: int
    heap_mb: float
    disk_mb: float


def full_gc(service_pid: int) -> bool:
    """A full GC in the service's JVM (the process itself or the launcher's child) by the jcmd beside
    its java; False where there is none."""
    service = psutil.Process(service_pid)
    jvm = next(p for p in [service, *service.children(recursive=True)] if Path(p.exe()).name == "java")
    jcmd = Path(jvm.exe()).parent / "jcmd"
    if not jcmd.exists():
        return False
    subprocess.run([str(jcmd), str(jvm.pid), "GC.run"], check=True, capture_output=True, timeout=120)
    return True


def pinot_pid(cfg) -> int:
    pids = [s.pid for s in status(cfg) if s.name == "pinot" and s.pid]
    if not pids:
        raise SystemExit("no running `pinot` service: this benchmark needs the single-process stack (make up)")
    return pids[0]


def table_disk_mb(cfg) -> float:
    folders = [p for p in state_paths(cfg).data.rglob(f"{TABLE}_REALTIME") if p.is_dir()]
    return sum(disk_mb(folder) for folder in folders)


def measure(cfg, state: str, forced: list[bool]) -> Footprint:
    forced.append(full_gc(pinot_pid(cfg)))
    time.sleep(2)  # the metrics page reads the collector's last-GC figures when scraped
    capacity = pinot_capacity.table_capacity(cfg.pinot_broker.url, TABLE)
    heaps = pinot_capacity.server_heaps(cfg.pinot_server_metrics_urls)
    footprint = Footprint(state, capacity.documents, capacity.keys, capacity.live,
                          sum(h.used_after_gc for h in heaps) / 2**20, table_disk_mb(cfg))
    print(f"  {state}: {footprint.documents:,} documents, {footprint.keys:,} keys, {footprint.live:,} live, "
          f"heap after GC {footprint.heap_mb:,.0f} MB, disk {footprint.disk_mb:,.1f} MB", flush=True)
    return footprint


def compact(cfg) -> float:
    started = time.monotonic()
    report = compaction.compact(compaction.cli_services(cfg), TABLE, log=lambda line: None)
    print("  " + report.describe().replace("\n", "\n  "), flush=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live-keys", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=3000, help="changes per second while writing")
    parser.add_argument("--history", type=float, default=300, help="seconds of changes before compacting")
    args = parser.parse_args()
    cfg = settings()
    forced: list[bool] = []

    loader = Writer(cfg.postgres_dsn(), args.live_keys, args.rate, changes=0, duration_s=0)
    loader.run()  # loads up to --live-keys orders, writes no change
    if loader.error:
        raise loader.error
    print(f"== {args.live_keys:,} live orders; waiting until Pinot holds them", flush=True)
    wait(f"{args.live_keys:,} live rows in Pinot's {TABLE}",
         lambda: pinot_capacity.table_capacity(cfg.pinot_broker.url, TABLE).live >= args.live_keys,
         timeout_s=900, every_s=5)
    compact(cfg)
    rows = [measure(cfg, "fresh", forced)]

    print(f"== {args.history:.0f}s of changes at {args.rate:,.0f}/s", flush=True)
    writer = Writer(cfg.postgres_dsn(), args.live_keys, args.rate, changes=10**12, duration_s=10**9)
    writer.start()
    time.sleep(args.history)
    rows.append(measure(cfg, "history", forced))

    print(f"== compacting while the writer goes on ({writer.changes:,} changes so far)", flush=True)
    before = writer.changes
    seconds = compact(cfg)
    during = writer.changes - before
    rows.append(measure(cfg, "compacted under writes", forced))
    writer.stop.set()
    writer.join()
    if writer.error:
        raise writer.error

    print("== the writer stopped; compacting once more", flush=True)
    compact(cfg)
    rows.append(measure(cfg, "compacted quiet", forced))

    fresh = rows[0]
    print(f"\n{TABLE}, {fresh.live:,} live rows; the compaction under writes took {seconds:.0f}s, "
          f"with {during:,} changes written meanwhile")
    print(f"{'state':<24} {'documents':>11} {'keys held':>11} {'live':>9} {'heap MB':>9} {'vs fresh':>9} "
          f"{'disk MB':>9} {'vs fresh':>9}")
    for r in rows:
        print(f"{r.state:<24} {r.documents:>11,} {r.keys:>11,} {r.live:>9,} {r.heap_mb:>9,.0f} "
              f"{r.heap_mb / fresh.heap_mb - 1:>+9.0%} {r.disk_mb:>9,.1f} {r.disk_mb / fresh.disk_mb - 1:>+9.0%}")
    print("heap: after a full GC (jcmd GC.run)" if all(forced) else
          "heap: the last GC's reading (no jcmd beside Pinot's java: a runtime without the JDK tools)")


if __name__ == "__main__":
    main()

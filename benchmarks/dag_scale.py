"""How the DAG tasks scale with the orders table: load N orders through the real CDC path, run
create_views and the tsum_summaries run it triggers through Airflow, and print each task's
duration and the peak resident memory of its task process.

    .venv/bin/python benchmarks/dag_scale.py --rows 100000 1000000

Each N is a total: orders are added (in the orders view's window) until PostgreSQL holds N, and
the run starts once Pinot holds every one of them. Needs the running, bootstrapped local stack
(`make up`). The benchmark's orders stay in the tables (the next, larger N builds on them).

tsum_summaries is held paused while create_views runs and is started right after, so each DAG's
tasks are timed without the other DAG's on the same two cores.

Peak RSS is the kernel's high-water mark (VmHWM) of the `airflow worker -- <task instance id>`
process that runs the task, sampled every 0.2 s while it lives.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from pathlib import Path

import psutil
import psycopg

from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.config import settings
from realtime_platform.trino_client import connect

CHUNK = 1_000_000
TASK_PROCESS = re.compile(r"^airflow worker -- ([0-9a-f-]{36})\b")
ADD_SQL = """
INSERT INTO public.orders (customer_id, status, channel, country, amount, created_at, updated_at)
SELECT g %% 50000,
       (ARRAY['placed','paid','paid','paid','shipped','delivered','cancelled'])[1 + g %% 7],
       (ARRAY['web','web','app','store','partner'])[1 + (g / 7) %% 5],
       (ARRAY['DE','DE','FR','US','US','US','GB','NL','PL','ES'])[1 + (g / 35) %% 10],
       (g %% 10000) / 100.0,
       now() AT TIME ZONE 'utc' - make_interval(days => 1 + g %% 300),
       now() AT TIME ZONE 'utc'
FROM generate_series(1, %(rows)s) AS g
"""


class TaskMemory(threading.Thread):
    """Peak RSS of every Airflow task process, by task instance id."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for process in psutil.process_iter(["cmdline"]):
                # setproctitle pads the title: psutil may give it with empty trailing arguments.
                match = TASK_PROCESS.match(" ".join(process.info["cmdline"] or []).strip())
                if match:
                    peak = _high_water_mark(process.pid)
                    if peak:
                        self.peak[match.group(1)] = max(self.peak.get(match.group(1), 0), peak)
            self.stop.wait(0.2)


def _high_water_mark(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def load_orders(cfg, total: int, timeout_s: float) -> None:
    """Adds orders until PostgreSQL holds `total`, then waits until Pinot holds them all."""
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM public.orders").fetchone()[0]
        if have > total * 1.01:
            raise SystemExit(f"public.orders already holds {have:,} orders, more than {total:,}: "
                             "measure at a larger N, or on a fresh stack")
        started = time.monotonic()
        while have < total:  # in transactions of at most CHUNK rows, each one streamed by Debezium
            rows = min(CHUNK, total - have)
            conn.execute(ADD_SQL, {"rows": rows})
            have += rows
            print(f"   PostgreSQL holds {have:,} orders ({time.monotonic() - started:.0f}s)", flush=True)
        want = conn.execute("SELECT count(*) FROM public.orders").fetchone()[0]
    cursor = connect(cfg).cursor()
    started, deadline = time.monotonic(), time.monotonic() + timeout_s
    while True:
        cursor.execute("SELECT count(*) FROM pinot.default.orders WHERE deleted = false")
        seen = cursor.fetchone()[0]
        if seen == want:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"Pinot holds {seen:,} of {want:,} orders after {timeout_s:.0f}s")
        time.sleep(1)
    print(f"   Pinot holds all {want:,} orders ({time.monotonic() - started:.1f}s after the commit)", flush=True)


def task_rows(client: AirflowClient, run_id: str, memory: TaskMemory) -> list[tuple[str, str, float, int]]:
    instances = client._ok(client.call("GET", f"/dags/{client.dag_id}/dagRuns/{run_id}/taskInstances"))
    rows = []
    for ti in sorted(instances["task_instances"], key=lambda t: t.get("start_date") or ""):
        rows.append((client.dag_id, ti["task_id"], float(ti.get("duration") or 0), memory.peak.get(ti["id"], 0)))
    return rows


def run_dags(cfg, memory: TaskMemory) -> list[tuple[str, str, float, int]]:
    views, tsum = AirflowClient(cfg, "create_views"), AirflowClient(cfg, "tsum_summaries")
    for client in (views, tsum):
        client.wait_until_known()
        client.wait_idle()
    # tsum_summaries would start as soon as create_views' `orders` task ends and share the two
    # cores with the rest of create_views; held paused, it is started by hand right after (a
    # paused DAG does not keep the asset event for later).
    views.set_paused(False)
    tsum.set_paused(True)
    try:
        run_id = views.trigger()
        state, tasks = views.wait_for_run(run_id, timeout_s=3600)
        if state != "success":
            raise RuntimeError(f"create_views {run_id}: {state} {tasks}")
    finally:
        tsum.set_paused(False)
    tsum_run = tsum.trigger()
    state, tasks = tsum.wait_for_run(tsum_run, timeout_s=3600)
    if state != "success":
        raise RuntimeError(f"tsum_summaries {tsum_run}: {state} {tasks}")
    time.sleep(1)  # the last sample of the last task process
    return task_rows(views, run_id, memory) + task_rows(tsum, tsum_run, memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="order totals to measure at, in increasing order")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the CDC load")
    args = parser.parse_args()
    cfg = settings()
    memory = TaskMemory()
    memory.start()
    results = []
    for total in sorted(args.rows):
        print(f"== {total:,} orders", flush=True)
        load_orders(cfg, total, args.timeout)
        for dag, task, seconds, rss in run_dags(cfg, memory):
            results.append((total, dag, task, seconds, rss))
            print(f"   {dag}.{task}: {seconds:.1f}s, peak RSS {rss / 2**20:.0f} MB", flush=True)
    memory.stop.set()
    print(f"\n{'orders':>10}  {'task':<34}{'seconds':>9}{'peak RSS':>10}")
    for total, dag, task, seconds, rss in results:
        print(f"{total:>10,}  {dag + '.' + task:<34}{seconds:>9.1f}{rss / 2**20:>7.0f} MB")


if __name__ == "__main__":
    main()

"""What a task pays around its own work: triggers the `task_overhead` DAG (one no-op task) N times in
a row through Airflow's API and prints the task's duration (Airflow's start to end of the task
instance), p50, p95 and max, and how many runs logged DataHub's "Thread for on_task_instance_...
is still running after 10.0 seconds" (the lineage listener blocking the task).

    .venv/bin/python benchmarks/task_overhead.py --runs 20
    .venv/bin/python benchmarks/task_overhead.py --summarize orders --runs 3

`--summarize <stream>` runs the `tsum_summaries` DAG instead and prints its `summarize_<stream>`
task's duration against the summary's own work (type check to the INSERT, the `seconds` the task
returns): what the task pays around that work, at the size the view has (load it first, e.g.
`benchmarks/throughput.py --rows 1000000`).

Needs the running local stack (`make up`). The lineage files waiting for the catalog are counted
too: the old shared-file emitter's cost grew with them (realtime_platform/catalog/lineage_shards.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import datetime
from pathlib import Path

from realtime_platform.config import airflow_lineage_file, settings
from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.local.paths import state_paths

BLOCKED = "is still running after"


def _seconds(instance: dict) -> float:
    start, end = (datetime.fromisoformat(instance[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
    return (end - start).total_seconds()


def _waiting_records(lineage_file: Path) -> str:
    shards = lineage_file.with_name(f"{lineage_file.name}.d")
    files = ([lineage_file] if lineage_file.exists() else []) + sorted(shards.glob("*.json"))
    return f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB"


def summarize(cfg, stream: str, runs: int) -> None:
    client, task = AirflowClient(cfg, "tsum_summaries"), f"summarize_{stream}"
    client.wait_until_known()
    client.set_paused(False)
    client.wait_idle()
    for number in range(1, runs + 1):
        run_id = client.trigger()
        state, _ = client.wait_for_run(run_id, timeout_s=1800)
        base = f"/dags/tsum_summaries/dagRuns/{run_id}/taskInstances/{task}"
        took = _seconds(client.call("GET", base).json())
        report = client.call("GET", f"{base}/xcomEntries/return_value",
                             params={"deserialize": "true", "stringify": "false"}).json()["value"]
        report = report if isinstance(report, dict) else json.loads(report)
        print(f"run {number}: {state}, {task} {took:.1f}s, its own work {report['seconds']:.1f}s "
              f"({report['rows']:,} rows, {report['distinct_rows']:,} distinct): {took - report['seconds']:.1f}s "
              f"around it", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--summarize", metavar="STREAM", help="time summarize_<STREAM> of tsum_summaries instead")
    args = parser.parse_args()
    cfg = settings()
    if args.summarize:
        summarize(cfg, args.summarize, args.runs)
        return
    client = AirflowClient(cfg, "task_overhead")
    client.wait_until_known()
    lineage = airflow_lineage_file(state_paths(cfg).root / "datahub")
    print(f"lineage waiting for the catalog before: {_waiting_records(lineage)}")
    durations, blocked = [], 0
    client.set_paused(False)
    client.wait_idle()  # the scheduled run that unpausing may start: not counted
    for number in range(1, args.runs + 1):
        run_id = client.trigger()
        state, _ = client.wait_for_run(run_id, timeout_s=300)
        [instance] = client.call("GET", f"/dags/task_overhead/dagRuns/{run_id}/taskInstances").json()["task_instances"]
        log = client.call("GET", f"/dags/task_overhead/dagRuns/{run_id}/taskInstances/noop/logs/1",
                          headers={"Accept": "text/plain"}).text
        durations.append(_seconds(instance))
        blocked += BLOCKED in log
        print(f"run {number:>3}: {state}, noop {durations[-1]:.2f}s{'  (listener blocked)' if BLOCKED in log else ''}",
              flush=True)
    ordered = sorted(durations)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"noop task over {len(durations)} runs: p50 {statistics.median(durations):.2f}s, p95 {p95:.2f}s, "
          f"max {ordered[-1]:.2f}s; listener blocked in {blocked} runs")
    print(f"lineage waiting for the catalog after: {_waiting_records(lineage)}")


if __name__ == "__main__":
    main()

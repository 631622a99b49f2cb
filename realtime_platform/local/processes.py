"""Every process of this stack, supervised or orphaned, found through an environment mark.

supervisord starts with `REALTIME_PLATFORM_STATE_DIR=<state dir>` in its environment and gives each
program `REALTIME_PLATFORM_SERVICE=<name>`; every process they start (JVMs forked by launchers,
Postgres backends, Airflow task runners) inherits both. So when supervisord dies, its children can
still be found, named and stopped: `up` and `down` never count a stray process as a healthy service.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import psutil

from realtime_platform.local.paths import StatePaths

STACK_VAR = "REALTIME_PLATFORM_STATE_DIR"
SERVICE_VAR = "REALTIME_PLATFORM_SERVICE"
SUPERVISORD = "supervisord"


@dataclass(frozen=True)
class StackProcess:
    pid: int
    service: str  # the supervisord program it belongs to, or "supervisord"
    command: str
    rss_bytes: int
    parent_pids: tuple[int, ...]


def stack_marks(paths: StatePaths) -> dict[str, str]:
    return {STACK_VAR: str(paths.root)}


def stack_processes(paths: StatePaths) -> list[StackProcess]:
    """The live processes whose environment carries this state dir's mark (this process and its
    ancestors excluded: an Airflow task may run platformctl itself)."""
    own = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.pid in own:
            continue
        try:
            environment = process.environ()
            if environment.get(STACK_VAR) != str(paths.root):
                continue
            found.append(StackProcess(
                process.pid, environment.get(SERVICE_VAR, SUPERVISORD),
                " ".join(process.info["cmdline"] or [])[:120], process.memory_info().rss,
                tuple(p.pid for p in process.parents())))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def orphans(paths: StatePaths, supervisord_pid: int | None) -> list[StackProcess]:
    """Stack processes that the running supervisord (if any) did not start: left over by a
    supervisord that was killed."""
    return [p for p in stack_processes(paths)
            if p.pid != supervisord_pid and supervisord_pid not in p.parent_pids]


def terminate(processes: list[StackProcess], grace_s: float = 30) -> list[int]:
    """SIGTERM to each, SIGKILL to what still runs after `grace_s`. Returns the pids killed hard."""
    live = []
    for entry in processes:
        try:
            process = psutil.Process(entry.pid)
            process.send_signal(signal.SIGTERM)
            live.append(process)
        except psutil.NoSuchProcess:
            continue
    _, still_running = psutil.wait_procs(live, timeout=grace_s)
    for process in still_running:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(still_running, timeout=10)
    return [p.pid for p in still_running]


def describe(processes: list[StackProcess]) -> str:
    by_service: dict[str, list[int]] = {}
    for entry in processes:
        by_service.setdefault(entry.service, []).append(entry.pid)
    return ", ".join(f"{name} ({len(pids)}: {', '.join(map(str, sorted(pids)[:3]))}"
                     f"{', ...' if len(pids) > 3 else ''})" for name, pids in sorted(by_service.items()))

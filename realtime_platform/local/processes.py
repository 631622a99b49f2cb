"""Every process of this stack, supervised or orphaned.

supervisord daemonizes into a session of its own, and every program it starts (and everything
those start: JVMs forked by launchers, Postgres backends, Airflow's workers) stays in that session
when supervisord dies. `ensure_daemon` writes the session id to `.state/run/stack.sid`, so after
a `kill -9` of supervisord its children can still be found and stopped: `up` and `down` never
count a stray process as a healthy service, and leave no process behind.

Children that start a session of their own (Postgres backends) are found as descendants of a
process that is. Each process is named by the supervisord program it belongs to: from `REALTIME_PLATFORM_SERVICE`
in its environment (supervisord sets it per program), or, for processes that overwrite their
environment with a title (Airflow, Postgres backends), from supervisord's log of spawned pids,
which are the process group ids of the programs.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

import psutil

from realtime_platform.local.paths import StatePaths

STACK_VAR = "REALTIME_PLATFORM_STATE_DIR"
SERVICE_VAR = "REALTIME_PLATFORM_SERVICE"
SUPERVISORD = "supervisord"
_SPAWNED = re.compile(r"spawned: '(?P<name>[^']+)' with pid (?P<pid>\d+)")


@dataclass(frozen=True)
class StackProcess:
    pid: int
    service: str  # the supervisord program it belongs to, "supervisord", or "unknown"
    command: str
    rss_bytes: int
    parent_pids: tuple[int, ...]


def stack_marks(paths: StatePaths) -> dict[str, str]:
    return {STACK_VAR: str(paths.root)}


def session_file(paths: StatePaths) -> Path:
    return paths.run / "stack.sid"


def remember_session(paths: StatePaths, supervisord_pid: int) -> None:
    """Called once supervisord runs: it is the leader of the stack's session."""
    session_file(paths).write_text(f"{os.getsid(supervisord_pid)}\n")


def _session(paths: StatePaths) -> int | None:
    try:
        return int(session_file(paths).read_text())
    except (OSError, ValueError):
        return None


def _spawned_groups(paths: StatePaths) -> dict[int, str]:
    """Process group id -> program, from supervisord's `spawned: 'x' with pid N` lines."""
    groups: dict[int, str] = {}
    for log in sorted(paths.logs.glob("supervisord.log*"), reverse=True):  # oldest backup first
        try:
            for match in _SPAWNED.finditer(log.read_text(errors="replace")):
                groups[int(match["pid"])] = match["name"]
        except OSError:
            continue
    return groups


def _belongs(process: psutil.Process, paths: StatePaths, session: int | None) -> str | None:
    """The mark's service name (or "") when the process is part of this stack, else None."""
    try:
        environment = process.environ()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        environment = {}
    if environment.get(STACK_VAR) == str(paths.root):
        return environment.get(SERVICE_VAR, "")
    if session is not None and os.getsid(process.pid) == session:
        return ""
    return None


def stack_processes(paths: StatePaths) -> list[StackProcess]:
    """The live processes of this stack (this process and its ancestors excluded: an Airflow task
    may run platformctl itself)."""
    own = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    session = _session(paths)
    groups = None
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.pid in own or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            service = _belongs(process, paths, session)
            if service is None:
                continue
            if not service:
                if process.pid == session:
                    service = SUPERVISORD
                else:
                    groups = _spawned_groups(paths) if groups is None else groups
                    service = groups.get(os.getpgid(process.pid), "unknown")
            found.append(StackProcess(
                process.pid, service, " ".join(process.info["cmdline"] or [])[:120],
                process.memory_info().rss, tuple(p.pid for p in process.parents())))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ProcessLookupError):
            continue
    return found + _descendants_outside(found)


def _descendants_outside(found: list[StackProcess]) -> list[StackProcess]:
    """Children that left the session (Postgres puts each backend in a session of its own) still
    belong to the service of their nearest ancestor that was found."""
    service_of = {p.pid: p.service for p in found}
    extra = []
    for entry in found:
        try:
            children = psutil.Process(entry.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for child in children:
            if child.pid in service_of:
                continue
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    continue
                parents = child.parents()
                service = next(service_of[p.pid] for p in parents if p.pid in service_of)
                extra.append(StackProcess(child.pid, service, " ".join(child.cmdline())[:120],
                                          child.memory_info().rss, tuple(p.pid for p in parents)))
                service_of[child.pid] = service
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, StopIteration):
                continue
    return extra


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

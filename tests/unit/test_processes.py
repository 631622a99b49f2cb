"""Finding the stack's processes by their environment mark, as `up`, `down` and `status` do after
supervisord died: real child processes, no stack needed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from realtime_platform.local import processes
from realtime_platform.local.paths import StatePaths

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Ignores SIGTERM, as a hung service would: only SIGKILL ends it.
STUBBORN = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(60)"]


@pytest.fixture
def spawn(tmp_path):
    started: list[subprocess.Popen] = []

    def start(argv, state_dir, service="demo", **kwargs):
        env = {**os.environ, processes.STACK_VAR: str(state_dir), processes.SERVICE_VAR: service}
        process = subprocess.Popen(argv, env=env, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_finds_the_marked_processes_of_its_own_state_dir_only(tmp_path, spawn):
    mine, other = StatePaths(tmp_path / "a"), StatePaths(tmp_path / "b")
    kafka = spawn(SLEEPER, mine.root, "kafka")
    spawn(SLEEPER, other.root, "kafka")
    unmarked = subprocess.Popen(SLEEPER)
    try:
        time.sleep(0.3)
        found = processes.stack_processes(mine)
        assert [(p.pid, p.service) for p in found] == [(kafka.pid, "kafka")]
        assert found[0].rss_bytes > 0
    finally:
        unmarked.kill()
        unmarked.wait()


def test_children_of_the_running_supervisord_are_not_orphans(tmp_path, spawn):
    paths = StatePaths(tmp_path)
    # A parent that starts one marked child: it plays supervisord.
    parent = spawn([sys.executable, "-c",
                    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                    "'import time; time.sleep(60)']); time.sleep(60)"], paths.root, "supervisord")
    time.sleep(0.5)
    assert len(processes.stack_processes(paths)) == 2
    assert processes.orphans(paths, supervisord_pid=parent.pid) == []
    # supervisord gone: its child is an orphan (and so is the parent itself, were it still there).
    assert {p.pid for p in processes.orphans(paths, supervisord_pid=None)} >= {parent.pid}
    for child in psutil.Process(parent.pid).children():
        child.kill()


@pytest.mark.slow
def test_terminate_stops_politely_then_kills_what_ignores_sigterm(tmp_path, spawn):
    paths = StatePaths(tmp_path)
    polite = spawn(SLEEPER, paths.root, "trino")
    stubborn = spawn(STUBBORN, paths.root, "pinot", stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline().strip() == "ready"
    killed = processes.terminate(processes.stack_processes(paths), grace_s=2)
    assert killed == [stubborn.pid]  # the polite one ended on SIGTERM within the grace period
    assert not psutil.pid_exists(polite.pid) or psutil.Process(polite.pid).status() == psutil.STATUS_ZOMBIE
    assert processes.stack_processes(paths) == []


def test_describe_groups_by_service(tmp_path):
    entries = [processes.StackProcess(pid, service, "x", 0, ()) for pid, service in
               [(3, "kafka"), (1, "kafka"), (7, "trino")]]
    assert processes.describe(entries) == "kafka (2: 1, 3), trino (1: 7)"


@pytest.mark.slow
def test_processes_that_overwrite_their_environment_are_found_by_session(tmp_path):
    """Airflow and Postgres set process titles over their environment: the session still tells."""
    paths = StatePaths(tmp_path)
    paths.create()
    # A session leader (plays supervisord) whose child scrubs its environment mark.
    leader = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
         "'import time; time.sleep(60)'], env={}); time.sleep(60)"],
        start_new_session=True)
    try:
        time.sleep(0.5)
        (child,) = psutil.Process(leader.pid).children()
        (paths.logs / "supervisord.log").write_text(
            f"2026-11-29 16:04:10,123 INFO spawned: 'airflow-scheduler' with pid {os.getpgid(child.pid)}\n")
        processes.remember_session(paths, leader.pid)
        found = {p.pid: p.service for p in processes.stack_processes(paths)}
        assert found == {leader.pid: "supervisord", child.pid: "airflow-scheduler"}
        leader.kill()
        leader.wait()
        left = processes.orphans(paths, supervisord_pid=None)
        assert [(p.pid, p.service) for p in left] == [(child.pid, "airflow-scheduler")]
        assert processes.terminate(left, grace_s=5) == []
        assert processes.stack_processes(paths) == []
    finally:
        for process in psutil.Process().children(recursive=True):
            if process.pid != os.getpid():
                process.kill()


def test_a_child_in_a_session_of_its_own_belongs_to_its_parents_service(tmp_path, spawn):
    """Postgres runs every backend in a new session: found as a descendant of the postmaster."""
    paths = StatePaths(tmp_path)
    paths.create()
    parent = spawn([sys.executable, "-c",
                    "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                    "'import time; time.sleep(60)'], env={}, start_new_session=True); time.sleep(60)"],
                   paths.root, "postgres")
    time.sleep(0.5)
    (child,) = psutil.Process(parent.pid).children()
    assert os.getsid(child.pid) == child.pid
    found = {p.pid: p.service for p in processes.stack_processes(paths)}
    assert found == {parent.pid: "postgres", child.pid: "postgres"}
    child.kill()

"""kill -9 of a program that supervisord runs, kept down for an outage until the test starts it.

supervisord restarts a program that dies unexpectedly (autorestart=unexpected): it shows it
EXITED for a few milliseconds and spawns it again. Stopping that new process races its exec (a
SIGTERM between fork and exec is lost, and the stop then waits stopwaitsecs). So the program is
frozen first, supervisord is told to stop it, and only then is it killed: supervisord sees the
end of a process it was stopping and leaves it STOPPED. The frozen process runs no signal
handler, so to it this is a plain kill -9.
"""

from __future__ import annotations

import os
import signal
import time

from tests.live.polling import wait


def kill(server, name: str) -> int:
    """SIGKILL to the program's process group; supervisord restarts it (autorestart=unexpected).
    (`server`: supervisord's XML-RPC `supervisor` namespace.) Returns the killed pid."""
    pid = server.getProcessInfo(name)["pid"]
    assert pid, f"{name} is not running"
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    return pid


def wait_respawned(server, name: str, killed_pid: int, timeout_s: float = 60) -> int:
    """Until supervisord has started the program again after `kill` (a new pid); returns it. Its
    health is the caller's next wait."""
    def respawned() -> int:
        pid = server.getProcessInfo(name)["pid"]
        return pid if pid not in (0, killed_pid) else 0

    return wait(f"supervisord restarting {name}", respawned, timeout_s, 0.05)


def kill_and_hold_down(server, name: str, timeout_s: float = 30) -> float:
    """SIGKILL to the program's process group, with no restart until the caller starts it again
    (`server`: supervisord's XML-RPC `supervisor` namespace). Returns when it was killed."""
    pid = server.getProcessInfo(name)["pid"]
    assert pid, f"{name} is not running"
    group = os.getpgid(pid)
    os.killpg(group, signal.SIGSTOP)
    server.stopProcess(name, False)  # its SIGTERM stays pending in the frozen processes
    os.killpg(group, signal.SIGKILL)
    killed_at = time.monotonic()
    wait(f"{name} held down (STOPPED)", lambda: server.getProcessInfo(name)["statename"] == "STOPPED", timeout_s, 0.05,
         explain=lambda: f"still {server.getProcessInfo(name)['statename']}")
    return killed_at

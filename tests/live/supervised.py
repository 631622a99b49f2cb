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


def kill(server, name: str) -> None:
    """SIGKILL to the program's process group; supervisord restarts it (autorestart=unexpected).
    (`server`: supervisord's XML-RPC `supervisor` namespace.)"""
    pid = server.getProcessInfo(name)["pid"]
    assert pid, f"{name} is not running"
    os.killpg(os.getpgid(pid), signal.SIGKILL)


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
    while (state := server.getProcessInfo(name)["statename"]) != "STOPPED":
        assert time.monotonic() < killed_at + timeout_s, f"{name} could not be held down (still {state})"
        time.sleep(0.05)
    return killed_at

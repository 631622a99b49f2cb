"""Health checks of the local services, and waiting for them with visible progress."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

# What a service that is not up yet makes a probe raise: refused or reset connections, timeouts, HTTP
# errors, a half-written answer. Any other exception is a bug in the probe and is raised at once,
# rather than looking like "not healthy yet" until the start timeout.
TRANSIENT: tuple[type[BaseException], ...] = (OSError, requests.RequestException, subprocess.TimeoutExpired)


@dataclass(frozen=True)
class HealthCheck:
    """Tells whether a service answers; `describe` names what is probed, for error messages."""

    describe: str
    probe: Callable[[], bool]
    transient: tuple[type[BaseException], ...] = TRANSIENT

    def ok(self) -> bool:
        try:
            return bool(self.probe())
        except self.transient:
            return False


def tcp(host: str, port: int) -> HealthCheck:
    def probe() -> bool:
        with socket.create_connection((host, port), timeout=2):
            return True

    return HealthCheck(f"tcp://{host}:{port}", probe)


def command(describe: str, argv: list[str]) -> HealthCheck:
    """Healthy when `argv` exits 0, for services whose own client knows "ready" better than TCP."""
    def probe() -> bool:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10, check=False).returncode == 0

    return HealthCheck(describe, probe)


def http(url: str, accept: Callable[[requests.Response], bool] | None = None) -> HealthCheck:
    def probe() -> bool:
        response = requests.get(url, timeout=3)
        return response.ok and (accept is None or accept(response))

    return HealthCheck(url, probe)


def trino_ready(base_url: str) -> HealthCheck:
    """Trino answers /v1/info before it can run queries; `starting` turns false when it can."""
    return http(f"{base_url}/v1/info", lambda r: r.json().get("starting") is False)


class ServiceTimeout(RuntimeError):
    pass


def wait_until_healthy(name: str, check: HealthCheck, timeout_s: float,
                       is_running: Callable[[], bool] | None = None) -> float:
    """Polls `check` until it passes; prints a dot every few seconds; returns the seconds waited.

    Fails early, naming the service, when `is_running` says its process died.
    """
    start = time.monotonic()
    last_dot = start
    print(f"  waiting for {name} ({check.describe}) ", end="", flush=True)
    while True:
        if check.ok():
            waited = time.monotonic() - start
            print(f" healthy after {waited:.0f}s", flush=True)
            return waited
        now = time.monotonic()
        if is_running is not None and not is_running():
            print(flush=True)
            raise ServiceTimeout(f"{name} exited while starting; see `make logs SERVICE={name}`")
        if now - start > timeout_s:
            print(flush=True)
            raise ServiceTimeout(f"{name} not healthy at {check.describe} after {timeout_s:.0f}s; "
                                 f"see `make logs SERVICE={name}`")
        if now - last_dot >= 3:
            sys.stdout.write(".")
            sys.stdout.flush()
            last_dot = now
        time.sleep(0.5)


def zookeeper(host: str, port: int) -> HealthCheck:
    """ZooKeeper's `ruok` four-letter command answers `imok` when it serves requests."""
    def probe() -> bool:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"ruok")
            return conn.recv(4) == b"imok"

    return HealthCheck(f"zookeeper://{host}:{port} ruok", probe)


def all_of(checks: list[HealthCheck]) -> HealthCheck:
    return HealthCheck(" + ".join(c.describe for c in checks), lambda: all(c.ok() for c in checks))

"""Health probes: a service that is not up yet is "not healthy", a bug in the probe is raised at once."""

from __future__ import annotations

import socket

import pytest
import requests

from realtime_platform.local import health
from realtime_platform.local.health import HealthCheck


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_not_healthy_yet():
    port = free_port()
    assert health.tcp("127.0.0.1", port).ok() is False
    assert health.http(f"http://127.0.0.1:{port}/health").ok() is False


@pytest.mark.parametrize("error", [ConnectionResetError(), requests.ReadTimeout(), TimeoutError()])
def test_transient_errors_mean_not_yet(error):
    def probe():
        raise error

    assert HealthCheck("x", probe).ok() is False


def test_a_bug_in_a_probe_is_raised_not_waited_out():
    def probe():
        return {}["missing"]

    with pytest.raises(KeyError):
        HealthCheck("x", probe).ok()
    with pytest.raises(KeyError):
        health.wait_until_healthy("buggy", HealthCheck("x", probe), timeout_s=300)


def test_a_probe_can_name_its_own_transient_errors():
    class ServiceStarting(Exception):
        pass

    def probe():
        raise ServiceStarting

    assert HealthCheck("x", probe, transient=(ServiceStarting,)).ok() is False

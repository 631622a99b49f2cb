"""Pausing a Debezium connector for a test, and knowing it has really stopped.

Kafka Connect reports the connector PAUSED as soon as the request is taken; each task stops only
at the top of its next poll loop, after sending the batch it already holds. A test that writes
rows "while paused" must wait for every task to say PAUSED too, or its first rows still flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from realtime_platform.cdc_health import ConnectorState, connector_states
from tests.live.polling import wait


def state_of(connect_url: str, name: str) -> ConnectorState:
    return next(c for c in connector_states(connect_url, timeout_s=10) if c.name == name)


def wait_for_state(connect_url: str, name: str, wanted: str, timeout_s: float = 60,
                   require_tasks: bool = True) -> None:
    """The connector and each of its tasks in state `wanted`. A STOPPED connector has no tasks:
    pass require_tasks=False."""
    def reached() -> bool:
        current = state_of(connect_url, name)
        tasks_ok = all(s == wanted for _, s in current.tasks) and (bool(current.tasks) or not require_tasks)
        return current.state == wanted and tasks_ok

    wait(f"connector {name} {wanted}", reached, timeout_s, 0.5, explain=lambda: state_of(connect_url, name))


@contextmanager
def paused(connect_url: str, name: str) -> Iterator[None]:
    """The connector and all its tasks PAUSED inside the block; resumed (and RUNNING) after it."""
    requests.put(f"{connect_url}/connectors/{name}/pause", timeout=10).raise_for_status()
    try:
        wait_for_state(connect_url, name, "PAUSED")
        yield
    finally:
        requests.put(f"{connect_url}/connectors/{name}/resume", timeout=10).raise_for_status()
        wait_for_state(connect_url, name, "RUNNING")

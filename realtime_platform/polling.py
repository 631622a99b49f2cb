"""Waiting for a service to reach a state, with a deadline that names what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait(what: str, condition: Callable[[], T], timeout_s: float = 300, every_s: float = 2) -> T:
    """Calls `condition` until it returns something true, and returns that; raises TimeoutError naming
    `what` once `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached after {timeout_s:.0f}s")
        time.sleep(every_s)
    return result

"""Waiting for a service to reach a state, with a deadline that names what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait(what: str, condition: Callable[[], T], timeout_s: float = 300, every_s: float = 2,
         transient: tuple[type[BaseException], ...] = ()) -> T:
    """Calls `condition` until it returns something true, and returns that; raises TimeoutError naming
    `what` once `timeout_s` has passed. An exception of a `transient` type (a service still starting)
    counts as "not yet", and the last one is named at the deadline; any other goes through at once."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            result = condition()
        except transient as error:
            result, last_error = None, error
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached after {timeout_s:.0f}s"
                               + (f" (last: {last_error!r})" if last_error is not None else ""))
        time.sleep(every_s)

"""Waiting for the live stack to reach a state (realtime_platform/polling.py), failing the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from realtime_platform import polling

T = TypeVar("T")


def _stack_transient() -> tuple[type[BaseException], ...]:
    import psycopg
    import requests
    import trino.exceptions

    return (OSError, requests.RequestException, psycopg.Error, trino.exceptions.Error, trino.exceptions.HttpError)


# What a query raises while the stack recovers from a fault (a refused connection, Trino without
# its Pinot tables yet, PostgreSQL in recovery): "not yet". Anything else is a bug, raised at once.
STACK_TRANSIENT = _stack_transient()


def wait(what: str, condition: Callable[[], T], timeout_s: float = 300, every_s: float = 2,
         transient: tuple[type[BaseException], ...] = (), explain: Callable[[], object] | None = None) -> T:
    """polling.wait, whose deadline fails the test (an AssertionError naming what was awaited and,
    with `explain`, what was seen last)."""
    try:
        return polling.wait(what, condition, timeout_s, every_s, transient)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {explain()}" if explain else str(error)) from None

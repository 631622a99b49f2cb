"""Waiting for the live stack to reach a state (realtime_platform/polling.py), failing the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from realtime_platform import polling

T = TypeVar("T")


def wait(what: str, condition: Callable[[], T], timeout_s: float = 300, every_s: float = 2,
         transient: tuple[type[BaseException], ...] = (), explain: Callable[[], object] | None = None) -> T:
    """polling.wait, whose deadline fails the test (an AssertionError naming what was awaited and,
    with `explain`, what was seen last)."""
    try:
        return polling.wait(what, condition, timeout_s, every_s, transient)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {explain()}" if explain else str(error)) from None

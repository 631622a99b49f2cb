"""Waiting for the live stack to reach a state (realtime_platform/polling.py), failing the test."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from realtime_platform import polling

T = TypeVar("T")


def wait(what: str, condition: Callable[[], T], timeout_s: float = 300, every_s: float = 2) -> T:
    """polling.wait, whose deadline fails the test (an AssertionError naming what was awaited)."""
    try:
        return polling.wait(what, condition, timeout_s, every_s)
    except TimeoutError as error:
        raise AssertionError(str(error)) from None

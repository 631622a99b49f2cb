"""The one wait: a condition polled to a deadline; transient errors are "not yet", others are not."""

from __future__ import annotations

import pytest

from realtime_platform.polling import wait


def answers(*steps):
    """A condition that returns (or raises) each step in turn, then the last one again."""
    steps = list(steps)

    def condition():
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, BaseException):
            raise step
        return step

    return condition


def test_returns_the_first_true_answer():
    assert wait("ready", answers(None, 0, {"state": "RUNNING"}), timeout_s=5, every_s=0) == {"state": "RUNNING"}


def test_a_transient_error_is_not_yet():
    condition = answers(ConnectionError("refused"), ConnectionError("refused"), "up")
    assert wait("up", condition, timeout_s=5, every_s=0, transient=(OSError,)) == "up"


def test_any_other_error_goes_through_at_once():
    with pytest.raises(KeyError):
        wait("up", answers(KeyError("a bug in the probe"), "up"), timeout_s=5, every_s=0, transient=(OSError,))


def test_the_deadline_names_what_was_awaited_and_the_last_transient_error():
    with pytest.raises(TimeoutError, match=r"Trino up not reached after 0s \(last: ConnectionRefusedError"):
        wait("Trino up", answers(ConnectionRefusedError(111, "refused")), timeout_s=0, every_s=0,
             transient=(OSError,))
    with pytest.raises(TimeoutError, match=r"^slots caught up not reached after 0s$"):
        wait("slots caught up", answers(None), timeout_s=0, every_s=0)

"""The run date of a DAG run: its logical date, or the day it was due when it has none."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from realtime_platform.airflow.run_date import run_date

DUE = datetime(2026, 11, 29, 23, 59, tzinfo=timezone.utc)


def test_a_run_without_logical_date_is_for_the_day_it_was_due():
    assert run_date(SimpleNamespace(logical_date=None, run_after=DUE)) == "2026-11-29"


def test_a_run_for_a_date_keeps_that_date():
    run = SimpleNamespace(logical_date=datetime(2026, 11, 30, tzinfo=timezone.utc), run_after=DUE)
    assert run_date(run) == "2026-11-30"


def test_an_object_without_the_attribute_falls_back_to_run_after():
    assert run_date(SimpleNamespace(run_after=DUE)) == "2026-11-29"

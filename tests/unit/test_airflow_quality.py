"""Reconciliation of the views with PostgreSQL (pure functions, no database)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from realtime_platform.airflow.quality import (DataQualityError, ViewCheck, reconcile, run_checks,
                                               sql_sides, view_checks, window)
from tests.unit.memory_side import MemorySide


def test_equal_key_sets_reconcile():
    result = reconcile("person", [(1, 10), (2, 20)], [[2, 20], [1, 10]])
    assert result.ok
    assert (result.source_rows, result.target_rows) == (2, 2)


def test_missing_extra_and_duplicate_keys_are_counted():
    result = reconcile("orders", [(1,), (2,), (3,), (4,)], [(1,), (1,), (1,), (2,), (5,)])
    assert not result.ok
    assert (result.source_rows, result.target_rows) == (4, 5)
    assert (result.missing, result.extra, result.duplicate_target) == (2, 1, 2)
    assert result.sample_missing == ((3,), (4,))
    assert result.sample_extra == ((5,),)
    assert result.sample_duplicate == ((1,),)
    text = result.describe()
    assert "postgres 4 rows, trino 5 rows" in text
    assert "2 missing, 1 extra, 2 duplicate keys in trino" in text
    assert "missing e.g. 3, 4" in text


def test_duplicates_in_the_source_are_reported_too():
    result = reconcile("orders", [(1,), (1,)], [(1,)])
    assert not result.ok and result.duplicate_source == 1


def test_numeric_types_of_the_two_clients_compare_equal():
    assert reconcile("orders", [(Decimal(7),)], [[7]]).ok


def test_samples_are_limited():
    result = reconcile("orders", [(i,) for i in range(100)], [], sample=3)
    assert result.missing == 100 and len(result.sample_missing) == 3


def test_window_is_the_days_before_the_logical_date_in_utc():
    start, end = window("2026-11-27")
    assert end == datetime(2026, 11, 27, tzinfo=timezone.utc)
    assert start == datetime(2025, 11, 27, tzinfo=timezone.utc)
    assert window("2024-03-01", days=1)[0] == datetime(2024, 2, 29, tzinfo=timezone.utc)


class FakeSources:
    """PostgreSQL and Trino keys per attempt (the last repeats), as in-memory sides; records the
    window parameters each check was given."""

    def __init__(self, source: dict[str, list], target: list[dict[str, list]]):
        self.source, self.target = source, target
        self.params: dict[str, dict] = {}
        self.target_calls = 0

    def source_side(self, check: ViewCheck, params: dict) -> MemorySide:
        self.params[check.name] = params
        return MemorySide("postgres", self.source[check.name])

    def target_side(self, check: ViewCheck, params: dict) -> MemorySide:
        answer = self.target[min(self.target_calls // len(view_checks()), len(self.target) - 1)]
        self.target_calls += 1
        return MemorySide("trino", answer[check.name])


def test_orders_window_is_applied_to_postgres_as_naive_utc():
    fake = FakeSources({"person": [(1, 1)], "orders": [(5,)]}, [{"person": [(1, 1)], "orders": [(5,)]}])
    run_checks("2026-11-27", fake.source_side, fake.target_side, log=lambda _: None)
    [orders] = [c for c in view_checks() if c.name == "orders"]
    assert orders.source_filter == "created_at >= %(window_start)s AND created_at < %(window_end)s"
    assert fake.params["orders"] == {"window_start": datetime(2025, 11, 27), "window_end": datetime(2026, 11, 27)}
    postgres, _ = sql_sides(lambda sql, params: [], lambda sql, params: [])
    side = postgres(orders, fake.params["orders"])
    assert side.where == orders.source_filter and side.params == fake.params["orders"]


def test_a_late_change_is_waited_for():
    fake = FakeSources({"person": [(1, 1)], "orders": [(5,), (6,)]},
                       [{"person": [(1, 1)], "orders": [(5,)]},  # order 6 still on its way
                        {"person": [(1, 1)], "orders": [(5,), (6,)]}])
    sleeps: list[float] = []
    results = run_checks("2026-11-27", fake.source_side, fake.target_side, attempts=3, wait_s=7,
                         sleep=sleeps.append, log=lambda _: None)
    assert all(r.ok for r in results) and sleeps == [7]


def test_a_lasting_mismatch_fails_with_the_numbers():
    fake = FakeSources({"person": [(1, 1), (2, 2)], "orders": [(5,)]},
                       [{"person": [(1, 1), (1, 1), (3, 3)], "orders": [(5,)]}])
    sleeps: list[float] = []
    with pytest.raises(DataQualityError) as failure:
        run_checks("2026-11-27", fake.source_side, fake.target_side, attempts=3, wait_s=1,
                   sleep=sleeps.append, log=lambda _: None)
    message = str(failure.value)
    assert "person: postgres 2 rows, trino 3 rows; 1 missing, 1 extra, 1 duplicate keys" in message
    assert "key buckets compared" in message and "keys fetched" in message
    assert "orders" not in message  # only the failing view is named
    assert len(sleeps) == 2
    assert {r.name: r.ok for r in failure.value.results} == {"person": False, "orders": True}


def test_attempts_must_be_positive():
    with pytest.raises(ValueError):
        run_checks("2026-11-27", lambda *_: MemorySide("p", []), lambda *_: MemorySide("t", []), attempts=0)


def test_custom_checks_are_supported():
    check = ViewCheck("t", "public.t", "hive.views.t", ("k",))
    results = run_checks("2026-11-27", lambda c, p: MemorySide("postgres", [(1,)]),
                         lambda c, p: MemorySide("trino", [(1,)]), checks=[check], log=lambda _: None)
    assert [r.name for r in results] == ["t"]

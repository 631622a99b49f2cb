"""Bucket aggregates find exactly what a full key-by-key comparison finds, fetching only the
buckets that differ (property tests, fixed hypothesis seed)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from realtime_platform.key_buckets import (
    PRIME,
    Buckets,
    SqlSide,
    _fetch_plan,
    compare,
    converge,
    hash_sql,
    key_hash,
)
from realtime_platform.airflow.quality import reconcile, reconcile_sides
from realtime_platform.column_types import row_digest_value
from tests.unit.memory_side import MemorySide

SETTINGS = dict(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
keys_1 = st.lists(st.tuples(st.integers(-50, 3000)), max_size=400)
unique_keys_1 = st.lists(st.tuples(st.integers(-50, 3000)), max_size=400, unique=True)  # a primary key


@settings(**SETTINGS)
@seed(20261129)
@given(low=st.integers(-10**12, 10**12), width=st.integers(1, 10**6), key=st.integers(-10**15, 10**15))
def test_every_key_lies_in_its_buckets_range(low, width, key):
    buckets = Buckets(low, width)
    start, end = buckets.key_range(buckets.of(key))
    assert start <= key < end
    assert buckets.of(start) == buckets.of(end - 1) == buckets.of(key)


@settings(**SETTINGS)
@seed(20261129)
@given(source=unique_keys_1, target=keys_1, limit=st.sampled_from([1, 3, 50, 100_000]))
def test_bucket_comparison_equals_the_full_comparison(source, target, limit):
    """Sources have primary keys; the view may hold anything."""
    full = reconcile("t", source, target)
    found = compare(MemorySide("postgres", source), MemorySide("trino", target), max_keys_per_fetch=limit)
    assert (found.source_rows, found.target_rows) == (full.source_rows, full.target_rows)
    assert (found.missing, found.extra) == (full.missing, full.extra)
    assert (found.duplicate_source, found.duplicate_target) == (full.duplicate_source, full.duplicate_target)
    assert tuple(found.sample_missing) == full.sample_missing
    assert tuple(found.sample_extra) == full.sample_extra
    assert tuple(found.sample_duplicate) == full.sample_duplicate
    assert found.changed_meanwhile == 0


@pytest.mark.slow
def test_a_few_late_rows_are_found_by_fetching_a_few_buckets():
    source = [(k,) for k in range(1, 1_000_001)]
    target = source[:-300]  # the newest 300 orders still on their way
    side_t = MemorySide("trino", target)
    found = compare(MemorySide("postgres", source), side_t)
    assert found.missing == 300 and found.extra == 0
    assert found.buckets > 900 and found.buckets_differing == 1
    assert found.keys_fetched < 2 * 1024 and len(side_t.fetched) == 1


def test_a_duplicate_key_is_found_even_when_the_counts_balance():
    source = [(1,), (2,), (3,)]
    target = [(1,), (1,), (3,)]  # 2 lost and 1 doubled: same row count
    found = compare(MemorySide("postgres", source), MemorySide("trino", target))
    assert (found.missing, found.duplicate_target, found.sample_duplicate) == (1, 1, [(1,)])


def test_a_duplicate_held_alike_by_both_sides_compares_equal():
    """The documented limit: only a source without a primary key could hold one."""
    found = compare(MemorySide("postgres", [(1,), (1,)]), MemorySide("trino", [(1,), (1,)]))
    assert found.buckets_differing == 0 and found.duplicate_target == 0


def test_two_column_keys():
    source = [(1, 10), (1, 11), (2, 10)]
    found = compare(MemorySide("postgres", source), MemorySide("trino", [(1, 10), (2, 10), (2, 11)]))
    assert (found.missing, found.extra, found.sample_missing, found.sample_extra) == (1, 1, [(1, 11)], [(2, 11)])


def test_a_crowded_bucket_is_compared_by_finer_buckets():
    """Keys bunched in one corner of a wide range: one coarse bucket holds them all."""
    source = [(k,) for k in range(10_000)] + [(10**12,)]
    target = [k for k in source if k != (4321,)]
    side_s, side_t = MemorySide("postgres", source), MemorySide("trino", target)
    found = compare(side_s, side_t, max_keys_per_fetch=500)
    assert (found.missing, found.sample_missing) == (1, [(4321,)])
    assert found.keys_fetched < 2 * 500 and all(b - a <= 10_000 for a, b in side_t.fetched)


class CatchingUp(MemorySide):
    """A target whose late rows arrive right after its aggregates were read."""

    def __init__(self, before, after):
        super().__init__("trino", before)
        self.after = after

    def aggregates(self, buckets, start=None, end=None):
        answer = super().aggregates(buckets, start, end)
        self.keys = [tuple(k) for k in self.after]
        return answer


def test_rows_arriving_during_the_check_make_it_not_final():
    source = [(k,) for k in range(1, 100)]
    found = compare(MemorySide("postgres", source), CatchingUp(source[:-5], source))
    assert (found.missing, found.extra, found.buckets_differing) == (0, 0, 1)
    assert found.changed_meanwhile == 1
    result = reconcile_sides("orders", MemorySide("postgres", source), CatchingUp(source[:-5], source))
    assert not result.ok and "changed during the check" in result.describe()


def test_fetches_are_bounded():
    runs = _fetch_plan([1, 2, 3, 4, 7, 8], {1: 40, 2: 40, 3: 40, 4: 40, 7: 10, 8: 200}, limit=100)
    assert runs == [(1, 2), (3, 4), (7, 7), (8, 8)]


def test_key_hash_stays_in_64_bits_and_matches_its_sql_text():
    key = (-(2**62), 2**62 - 1, 17)
    h1, h2 = key_hash(key)
    assert 0 <= h1 < PRIME and 0 <= h2 < PRIME
    sql1, sql2 = hash_sql(["a", "b", "c"])
    # The SQL is Python-evaluable once mod() is SQL's mod: the same arithmetic, step by step.
    env = {"mod": lambda x, m: (-1 if x < 0 else 1) * (abs(x) % m), "a": key[0], "b": key[1], "c": key[2]}
    expr = lambda s: eval(s.replace("CAST(", "(").replace(" AS bigint)", ")"), env)  # noqa: E731, S307
    assert (expr(sql1), expr(sql2)) == (h1, h2)


def test_a_failing_side_names_itself_and_its_sql():
    def broken(sql, params):
        raise RuntimeError("connection refused")

    side = SqlSide("trino", "hive.views.orders", ("order_id",), broken)
    with pytest.raises(RuntimeError, match=r"trino query on hive.views.orders failed: connection refused \(SQL: SELECT min\(order_id\)"):
        compare(MemorySide("postgres", [(1,)]), side)


def test_sql_applies_the_filter_to_every_query():
    side = SqlSide("postgres", "public.orders", ("order_id",), lambda s, p: [], where="created_at >= %(a)s")
    buckets = Buckets(1, 1024)
    for sql in (side.bounds_sql(), side.aggregates_sql(buckets), side.rows_sql(1, 2048)):
        assert "(created_at >= %(a)s)" in sql
    assert side.rows_sql(1, 2048).endswith("WHERE (created_at >= %(a)s) AND order_id >= 1 AND order_id < 2048")


def test_random_shuffles_do_not_matter():
    rng = random.Random(7)
    keys = [(rng.randrange(10**9),) for _ in range(5000)]
    shuffled = keys[:]
    rng.shuffle(shuffled)
    found = compare(MemorySide("postgres", keys), MemorySide("trino", shuffled))
    assert found.buckets_differing == 0 and found.keys_fetched == 0


# --- Row contents ---------------------------------------------------------------------------------
values = st.one_of(st.none(), st.sampled_from(["", "a", "b", "1:a", "|", "-", "null", "é"]))
rows_with_values = st.lists(st.tuples(st.integers(-50, 3000), values, values), max_size=300,
                            unique_by=lambda row: row[0])


def _contents(rows) -> list[dict]:
    return [{"x": x, "y": y} for _, x, y in rows]


def full_content_comparison(source, target) -> set[tuple]:
    """The plain answer: (key, column, source value, target value) for every key on both sides once."""
    left, right = {(k,): (x, y) for k, x, y in source}, {(k,): (x, y) for k, x, y in target}
    return {(key, column, left[key][i], right[key][i]) for key in left.keys() & right.keys()
            for i, column in enumerate(("x", "y")) if left[key][i] != right[key][i]}


@settings(**SETTINGS)
@seed(20261204)
@given(source=rows_with_values, changes=st.lists(st.tuples(st.integers(0, 299), values, values), max_size=20),
       limit=st.sampled_from([1, 3, 100_000]))
def test_content_comparison_equals_the_full_comparison(source, changes, limit):
    target = list(source)
    for index, x, y in changes:
        if index < len(target):
            target[index] = (target[index][0], x, y)
    expected = full_content_comparison(source, target)
    found = compare(MemorySide("postgres", [(k,) for k, *_ in source], _contents(source)),
                    MemorySide("trino", [(k,) for k, *_ in target], _contents(target)),
                    sample=1000, max_keys_per_fetch=limit)
    assert found.missing == found.extra == 0
    assert found.differing == len({d[0] for d in expected})
    assert set(found.sample_values) == expected
    assert found.changed_meanwhile == 0


def test_a_value_that_differs_is_named_with_its_key_column_and_both_values():
    keys = [(k,) for k in range(1, 5001)]
    source = [{"amount": f"{k}.50", "note": None} for k in range(1, 5001)]
    target = [dict(row) for row in source]
    target[4321]["note"] = ""  # NULL became an empty string in the view
    found = compare(MemorySide("postgres", keys, source), side_t := MemorySide("trino", keys, target))
    assert (found.missing, found.extra, found.differing) == (0, 0, 1)
    assert found.sample_values == [((4322,), "note", None, "")]
    assert found.buckets_differing == 1 and len(side_t.fetched) == 1


def test_the_canonical_text_keeps_columns_apart():
    """A value containing the separator cannot pass for two other values."""
    assert row_digest_value(["a|1:b", None]) != row_digest_value(["a", "b"])
    assert row_digest_value([None]) != row_digest_value(["-"]) != row_digest_value([""])
    # Numbers, dates and the like hold no '|' and are never '-': they need no length prefix.
    assert row_digest_value(["12.50", None], free=[False, False]) != row_digest_value(["12.50", "-"], [False, True])


def test_content_sql_hashes_each_row_once_per_engine():
    """PostgreSQL evaluates a flattened subquery's expression at each use: the digest is used once."""
    for engine, part in (("postgres", "::bit(64)::bigint AS d"), ("trino", "from_big_endian_64(")):
        side = SqlSide(engine, "t", ("id",), lambda s, p: [], content=(("a", "a::text", True),), engine=engine)
        sql = side.aggregates_sql(Buckets(0, 10))
        assert sql.count("md5(") == 1 and part in sql
        uses = sql.split(" AS d ")[0].count("(d)") + sql.split(" AS d ")[0].count("(d,")
        assert uses == (1 if engine == "postgres" else 2)
        assert side.values_sql([(1,), (2,)]).endswith("WHERE ((id = 1) OR (id = 2))")


# --- converge: every key range seen equal once ------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Lagging(MemorySide):
    """A side that receives `late` keys only after it has answered `after` aggregate queries."""

    def __init__(self, keys, late, after: int):
        super().__init__("rebuilt", keys)
        self.late, self.after, self.asked = list(late), after, 0

    def _catch_up(self) -> None:
        self.asked += 1
        if self.asked > self.after and self.late:
            self.keys += self.late
            self.late = []

    def aggregates(self, buckets, start=None, end=None):
        self._catch_up()
        return super().aggregates(buckets, start, end)

    def aggregates_in(self, buckets, ranges):
        self._catch_up()
        return MemorySide("rebuilt", self.keys).aggregates_in(buckets, ranges)  # one query, asked once


@settings(**SETTINGS)
@seed(20261205)
@given(source=unique_keys_1, dropped=st.sets(st.integers(0, 399), max_size=5))
def test_converge_names_every_key_never_seen_equal_and_only_ranges_holding_a_difference(source, dropped):
    """Against the full comparison: a key missing for good lies in an unmatched range, and every
    unmatched range holds a key that differs."""
    target = [k for i, k in enumerate(source) if i not in dropped]
    clock = FakeClock()
    found = converge(MemorySide("serving", source), MemorySide("rebuilt", target), timeout_s=5,
                     clock=clock, sleep=clock.sleep)
    missing = {k[0] for k in set(source) - set(target)}
    assert found.converged == (not missing)
    for key in missing:
        assert any(start <= key < end for start, end in found.unmatched), (key, found.unmatched)
    for start, end in found.unmatched:
        assert any(start <= key < end for key in missing), (start, end, missing)


def test_converge_waits_for_a_lagging_side_and_then_holds():
    source = [(k,) for k in range(1, 5001)]
    late = [(k,) for k in range(2000, 2100)]
    clock = FakeClock()
    target = Lagging([k for k in source if k not in set(late)], late, after=3)
    found = converge(MemorySide("serving", source), target, timeout_s=60, clock=clock, sleep=clock.sleep)
    assert found.converged and found.rounds == 4 and found.rows == 5000
    # Rounds after the first compare only the ranges still differing, by finer buckets.
    assert target.asked == 4 and clock.now == 3


def test_converge_gives_up_at_the_deadline_with_the_ranges_never_equal():
    clock = FakeClock()
    found = converge(MemorySide("serving", [(1,), (500,), (9000,)]), MemorySide("rebuilt", [(1,), (9000,)]),
                     timeout_s=3, clock=clock, sleep=clock.sleep)
    assert not found.converged and found.rounds == 4
    assert found.unmatched == [(500, 501)] or all(s <= 500 < e for s, e in found.unmatched)

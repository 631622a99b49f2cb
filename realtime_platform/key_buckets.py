"""Comparing two large sets of rows, keys and contents, by bucket aggregates, in the engines that hold them.

Each side (PostgreSQL, Trino) groups its keys into buckets -- ranges of the first key column --
and returns per bucket: the row count and two checksums (sums of two hashes of the whole key).
Equal aggregates mean equal buckets, up to a collision of both sums at once. A duplicate key in
the view changes its bucket's count, so it is found as exactly as a missing one: only the
buckets that differ are fetched key by key and compared exactly, a bounded number of keys at a time. So the task's memory follows
`max_keys_per_fetch`, not the tables; a few rows written while a connector was paused touch a
few neighbouring buckets, which push down to Pinot and PostgreSQL as key ranges.

Row contents are compared the same way: with `content` columns, each side also sums, per bucket, a
64-bit digest of each row's canonical text, the start of its MD5 (realtime_platform/column_types.py
gives both engines' SQL for it). A bucket whose keys agree but whose contents do not is fetched as keys with
their row digests; for a few of the keys that differ, the columns' canonical texts are then read
from both sides to name the column and both values.

The key hash uses only 64-bit integer arithmetic that PostgreSQL and Trino evaluate identically
(`mod` keeps the dividend's sign in both; every product stays below 2^63); `key_hash` is the
same function in Python, and tests check the three agree.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from realtime_platform.column_types import digest_sums, digest_total, row_digest

PRIME = 2147483647  # 2^31 - 1
MULTIPLIER = 1103515245  # < 2^31: hash * MULTIPLIER + next < 2^62
SECOND_MULTIPLIER = 2654435761  # < 2^32: hash * SECOND_MULTIPLIER < 2^63
KEYS_PER_BUCKET = 1024  # aim: the source's rows / this many buckets
MAX_BUCKETS = 1 << 16
MAX_KEYS_PER_FETCH = 100_000  # keys fetched per query of the drill-down (per side)
# A differing bucket with more keys than this is compared by finer buckets before any key is
# fetched: keys are seldom spread evenly over their range, so a bucket may hold far more than
# KEYS_PER_BUCKET of them.
REFINE_ABOVE = 4 * KEYS_PER_BUCKET

T = TypeVar("T")
U = TypeVar("U")
Key = tuple
# Per bucket: (rows, sum of key hash 1, sum of key hash 2[, sum of row digests])
Aggregate = tuple[int, ...]
# Per row of a drill-down: its key and its row digest (empty without content)
Row = tuple[Key, tuple[int, ...]]


def _mod(a: int, m: int) -> int:
    """SQL's mod: the remainder with the dividend's sign (Python's % takes the divisor's)."""
    r = abs(a) % m
    return -r if a < 0 else r


def _div(a: int, b: int) -> int:
    """SQL's integer division of bigints: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def key_hash(key: Sequence[int]) -> tuple[int, int]:
    """The two hashes of a key, as the SQL of `hash_sql` computes them."""
    h = _mod(int(key[0]), PRIME)
    for part in key[1:]:
        h = _mod(h * MULTIPLIER + _mod(int(part), PRIME), PRIME)
    h = _mod(h + PRIME, PRIME)
    return h, _mod(h * SECOND_MULTIPLIER, PRIME)


def hash_sql(columns: Sequence[str]) -> tuple[str, str]:
    """SQL for key_hash in PostgreSQL and Trino alike."""
    cols = [f"CAST({c} AS bigint)" for c in columns]
    h = f"mod({cols[0]}, {PRIME})"
    for col in cols[1:]:
        h = f"mod({h} * {MULTIPLIER} + mod({col}, {PRIME}), {PRIME})"
    h = f"mod({h} + {PRIME}, {PRIME})"
    return h, f"mod({h} * {SECOND_MULTIPLIER}, {PRIME})"


@dataclass(frozen=True)
class Buckets:
    """Bucket b holds the keys whose first column k has (k - low) / width == b (SQL division)."""

    low: int
    width: int

    @classmethod
    def plan(cls, low: int | None, high: int | None, rows: int) -> Buckets:
        if low is None or high is None:
            return cls(0, 1)
        count = min(MAX_BUCKETS, max(1, -(-rows // KEYS_PER_BUCKET)))
        return cls(low, max(1, -(-(high - low + 1) // count)))

    def of(self, first: int) -> int:
        return _div(int(first) - self.low, self.width)

    def key_range(self, bucket: int) -> tuple[int, int]:
        """[start, end) of the first key column in the bucket (0 also takes (low - width, low))."""
        if bucket > 0:
            return self.low + bucket * self.width, self.low + (bucket + 1) * self.width
        if bucket < 0:
            return self.low + (bucket - 1) * self.width + 1, self.low + bucket * self.width + 1
        return self.low - self.width + 1, self.low + self.width

    def sql(self, column: str) -> str:
        return f"(CAST({column} AS bigint) - {self.low}) / {self.width}"


class KeySide(Protocol):
    """One side of the comparison: PostgreSQL's table or Trino's view."""

    label: str

    def bounds(self) -> tuple[int | None, int | None, int]: ...  # min, max of the first column; rows
    def aggregates(self, buckets: Buckets, start: int | None = None,
                   end: int | None = None) -> dict[int, Aggregate]: ...  # of keys in [start, end)
    def aggregates_in(self, buckets: Buckets,
                      ranges: Sequence[tuple[int, int]]) -> dict[int, Aggregate]: ...  # keys in any [start, end)
    def rows(self, start: int, end: int) -> list[Row]: ...  # rows whose first key column is in [start, end)
    def values(self, keys: Sequence[Key]) -> dict[Key, dict[str, str | None]]: ...  # canonical text by column


class SideError(RuntimeError):
    """A query of one side failed: the message names the side and the SQL."""


@dataclass
class SqlSide:
    """A KeySide answered by SQL that PostgreSQL and Trino both run."""

    label: str
    relation: str
    key_columns: tuple[str, ...]
    fetch: Callable[[str, Mapping], list]  # (sql, params) -> rows
    where: str = ""  # a condition on the relation; may use params
    params: Mapping = field(default_factory=dict)
    # Compared columns: (name, SQL of its canonical text on this side, free text: column_types.is_free_text);
    # empty compares keys only.
    content: tuple[tuple[str, str, bool], ...] = ()
    engine: str = "postgres"  # whose SQL dialect builds the row digest: "postgres" or "trino"

    def _run(self, sql: str) -> list:
        try:
            return self.fetch(sql, self.params if "%(" in sql else {})
        except Exception as error:
            raise SideError(f"{self.label} query on {self.relation} failed: {error} (SQL: {sql})") from error

    def _where(self, *conditions: str) -> str:
        parts = [c for c in (f"({self.where})" if self.where else "", *conditions) if c]
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    def bounds_sql(self) -> str:
        first = self.key_columns[0]
        return f"SELECT min({first}), max({first}), count(*) FROM {self.relation}{self._where()}"

    def _in_range(self, start: int | None, end: int | None) -> list[str]:
        first = self.key_columns[0]
        return [f"{first} >= {start}" if start is not None else "", f"{first} < {end}" if end is not None else ""]

    def _digest(self) -> list[str]:
        """The row digest's SQL, as a one-item list; empty without content."""
        return [row_digest([(text, free) for _, text, free in self.content], self.engine)] if self.content else []

    def aggregates_sql(self, buckets: Buckets, start: int | None = None, end: int | None = None,
                       ranges: Sequence[tuple[int, int]] | None = None) -> str:
        first = self.key_columns[0]
        conditions = self._in_range(start, end)
        if ranges is not None:
            conditions.append("(" + (" OR ".join(f"({first} >= {a} AND {first} < {b})" for a, b in ranges)
                                     or "false") + ")")
        h1, h2 = hash_sql(self.key_columns)
        columns = [f"{buckets.sql(self.key_columns[0])} AS bucket", f"{h1} AS h1", f"{h2} AS h2",
                   *(f"{digest} AS d" for digest in self._digest())]
        sums = ["count(*)", "sum(h1)", "sum(h2)", *(digest_sums("d", self.engine) if self.content else [])]
        return (f"SELECT bucket, {', '.join(sums)} FROM (SELECT {', '.join(columns)} FROM {self.relation}"
                f"{self._where(*conditions)}) AS keyed GROUP BY bucket")

    def rows_sql(self, start: int, end: int) -> str:
        columns = ", ".join([*self.key_columns, *self._digest()])
        return f"SELECT {columns} FROM {self.relation}{self._where(*self._in_range(start, end))}"

    def values_sql(self, keys: Sequence[Key]) -> str:
        texts = ", ".join(text for _, text, _ in self.content)
        match = " OR ".join("(" + " AND ".join(f"{c} = {int(v)}" for c, v in zip(self.key_columns, key)) + ")"
                            for key in keys)
        return f"SELECT {', '.join(self.key_columns)}, {texts} FROM {self.relation}{self._where(f'({match})')}"

    def bounds(self) -> tuple[int | None, int | None, int]:
        [(low, high, rows)] = self._run(self.bounds_sql())
        return (None if low is None else int(low)), (None if high is None else int(high)), int(rows)

    def aggregates(self, buckets: Buckets, start: int | None = None, end: int | None = None) -> dict[int, Aggregate]:
        return self._aggregates(self.aggregates_sql(buckets, start, end))

    def aggregates_in(self, buckets: Buckets, ranges: Sequence[tuple[int, int]]) -> dict[int, Aggregate]:
        return self._aggregates(self.aggregates_sql(buckets, ranges=ranges))

    def _aggregates(self, sql: str) -> dict[int, Aggregate]:
        rows = self._run(sql)
        if not self.content:
            return {int(row[0]): tuple(int(v) for v in row[1:]) for row in rows}
        return {int(row[0]): (*(int(v) for v in row[1:4]), digest_total([int(v) for v in row[4:]])) for row in rows}

    def rows(self, start: int, end: int) -> list[Row]:
        width = len(self.key_columns)
        return [(tuple(int(v) for v in row[:width]), tuple(int(v) for v in row[width:]))
                for row in self._run(self.rows_sql(start, end))]

    def values(self, keys: Sequence[Key]) -> dict[Key, dict[str, str | None]]:
        if not keys or not self.content:
            return {}
        width = len(self.key_columns)
        return {tuple(int(v) for v in row[:width]): dict(zip((name for name, _, _ in self.content), row[width:]))
                for row in self._run(self.values_sql(keys))}


@dataclass
class Comparison:
    """What the comparison found; counts are exact (the differing buckets are compared key by key)."""

    source_rows: int = 0
    target_rows: int = 0
    missing: int = 0
    extra: int = 0
    duplicate_source: int = 0
    duplicate_target: int = 0
    sample_missing: list[Key] = field(default_factory=list)
    sample_extra: list[Key] = field(default_factory=list)
    sample_duplicate: list[Key] = field(default_factory=list)
    differing: int = 0  # keys on both sides, once each, whose row contents differ
    sample_differing: list[Key] = field(default_factory=list)
    # For the sampled keys: (key, column, source's canonical text, target's canonical text)
    sample_values: list[tuple[Key, str, str | None, str | None]] = field(default_factory=list)
    buckets: int = 0
    buckets_differing: int = 0
    keys_fetched: int = 0
    # Differing buckets whose keys, read next, then agreed: the data changed during the check
    # (CDC catching up), so the result is not final.
    changed_meanwhile: int = 0


def _suspect(source: dict[int, Aggregate], target: dict[int, Aggregate]) -> list[int]:
    """Buckets whose aggregates differ."""
    width = max((len(a) for a in (*source.values(), *target.values())), default=3)
    zero = (0,) * width
    return sorted(b for b in source.keys() | target.keys() if source.get(b, zero) != target.get(b, zero))


def _fetch_plan(suspect: list[int], sizes: Mapping[int, int], limit: int) -> list[tuple[int, int]]:
    """Consecutive suspect buckets joined into runs of at most `limit` keys (a bucket alone may
    exceed it); each run as (first bucket, last bucket)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    prev = total = 0
    for b in suspect:
        size = sizes.get(b, 0)
        if start is not None and b == prev + 1 and total + size <= limit:
            prev, total = b, total + size
            continue
        if start is not None:
            runs.append((start, prev))
        start, prev, total = b, b, size
    if start is not None:
        runs.append((start, prev))
    return runs


def _both(ask_source: Callable[[], T], ask_target: Callable[[], U]) -> tuple[T, U]:
    """Asks both engines at once: PostgreSQL and Trino each scan their side meanwhile."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        source, target = pool.submit(ask_source), pool.submit(ask_target)
        return source.result(), target.result()


def compare(source: KeySide, target: KeySide, sample: int = 5,
            max_keys_per_fetch: int = MAX_KEYS_PER_FETCH) -> Comparison:
    """Compares the key multisets of two sides by bucket aggregates, then drills into the
    buckets that differ: key by key in runs of at most `max_keys_per_fetch` keys; a bucket holding
    more than REFINE_ABOVE keys is first compared again by finer buckets of its range."""
    (s_low, s_high, s_rows), (t_low, t_high, t_rows) = _both(source.bounds, target.bounds)
    lows = [v for v in (s_low, t_low) if v is not None]
    highs = [v for v in (s_high, t_high) if v is not None]
    result = Comparison()
    _compare_range(source, target, Buckets.plan(min(lows, default=None), max(highs, default=None),
                                                max(s_rows, t_rows)), None, None, result, sample,
                   max_keys_per_fetch, top=True)
    _name_differing_values(source, target, result)
    return result


def _name_differing_values(source: KeySide, target: KeySide, result: Comparison) -> None:
    """For the sampled keys whose contents differ: which columns, with both sides' values."""
    if not result.sample_differing:
        return
    source_values, target_values = _both(lambda: source.values(result.sample_differing),
                                         lambda: target.values(result.sample_differing))
    for key in result.sample_differing:
        left, right = source_values.get(key, {}), target_values.get(key, {})
        for column in left:
            if left[column] != right.get(column):
                result.sample_values.append((key, column, left[column], right.get(column)))


def _compare_range(source: KeySide, target: KeySide, buckets: Buckets, start: int | None, end: int | None,
                   result: Comparison, sample: int, limit: int, top: bool = False) -> None:
    source_aggregates, target_aggregates = _both(lambda: source.aggregates(buckets, start, end),
                                                 lambda: target.aggregates(buckets, start, end))
    if top:
        result.source_rows = sum(a[0] for a in source_aggregates.values())
        result.target_rows = sum(a[0] for a in target_aggregates.values())
    suspect = _suspect(source_aggregates, target_aggregates)
    result.buckets += len(source_aggregates.keys() | target_aggregates.keys())
    result.buckets_differing += len(suspect)
    if not top and not suspect:
        result.changed_meanwhile += 1  # the coarser bucket differed a moment ago
    sizes = {b: max(source_aggregates.get(b, (0,))[0], target_aggregates.get(b, (0,))[0]) for b in suspect}
    for first, last in _fetch_plan(suspect, sizes, limit):
        low, high = buckets.key_range(first)[0], buckets.key_range(last)[1]
        if start is not None and end is not None:
            low, high = max(low, start), min(high, end)
        if first == last and sizes[first] > min(limit, REFINE_ABOVE) and high - low > 1:
            # Many keys in one bucket: compare its range by finer buckets, fetch only those that differ.
            planned = Buckets.plan(low, high - 1, sizes[first])
            finer = Buckets(low, min(planned.width, -(-(high - low) // 2)))  # at least halves the range
            _compare_range(source, target, finer, low, high, result, sample, limit)
            continue
        source_rows, target_rows = _both(partial(source.rows, low, high), partial(target.rows, low, high))
        result.keys_fetched += len(source_rows) + len(target_rows)
        if not _add_differences(result, source_rows, target_rows, sample):
            result.changed_meanwhile += 1


@dataclass
class Convergence:
    """What `converge` found: key ranges seen equal, and those never seen equal before the deadline."""

    rows: int = 0  # the source's rows when it started
    ranges_equal: int = 0
    rounds: int = 0
    unmatched: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of the first key column

    @property
    def converged(self) -> bool:
        return not self.unmatched


def _merged(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _aggregates_in(side: KeySide, buckets: Buckets, ranges: list[tuple[int, int]] | None) -> dict[int, Aggregate]:
    return side.aggregates(buckets) if ranges is None else side.aggregates_in(buckets, ranges)


def converge(source: KeySide, target: KeySide, timeout_s: float, pause_s: float = 1.0,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Convergence:
    """Whether every key range of the two sides is equal at some moment, keys and contents: for two
    sides that apply the same ordered changes (two Pinot upsert tables consuming one topic), a range
    equal once stays equal but for either side's lag, so a range is checked until it is seen equal
    once. While writes go on, a large range seldom holds still between the two reads; each round
    compares the ranges not yet seen equal by buckets a quarter as wide, down to single keys."""
    (s_low, s_high, s_rows), (t_low, t_high, t_rows) = _both(source.bounds, target.bounds)
    lows = [v for v in (s_low, t_low) if v is not None]
    highs = [v for v in (s_high, t_high) if v is not None]
    buckets = Buckets.plan(min(lows, default=None), max(highs, default=None), max(s_rows, t_rows))
    result = Convergence(rows=s_rows)
    ranges: list[tuple[int, int]] | None = None  # None: every key
    deadline = clock() + timeout_s
    while True:
        result.rounds += 1
        source_aggregates, target_aggregates = _both(partial(_aggregates_in, source, buckets, ranges),
                                                     partial(_aggregates_in, target, buckets, ranges))
        suspect = _suspect(source_aggregates, target_aggregates)
        result.ranges_equal += len(source_aggregates.keys() | target_aggregates.keys()) - len(suspect)
        ranges = _merged([buckets.key_range(b) for b in suspect])
        if not ranges:
            return result
        if clock() >= deadline:
            result.unmatched = ranges
            return result
        # Finer buckets over the same origin: each one lies inside one of the coarser buckets.
        buckets = Buckets(buckets.low, max(1, buckets.width // 4))
        sleep(pause_s)


def _add_differences(result: Comparison, source_rows: list[Row], target_rows: list[Row], sample: int) -> bool:
    """Adds what differs between two sets of rows to the result; False when nothing does."""
    source, target = Counter(k for k, _ in source_rows), Counter(k for k, _ in target_rows)
    source_digest, target_digest = dict(source_rows), dict(target_rows)
    differing = sorted(k for k in source_digest.keys() & target_digest.keys()
                       if source[k] == target[k] == 1 and source_digest[k] != target_digest[k])
    result.differing += len(differing)
    result.sample_differing.extend(differing[: sample - len(result.sample_differing)])
    missing = sorted(source.keys() - target.keys())
    extra = sorted(target.keys() - source.keys())
    result.missing += len(missing)
    result.extra += len(extra)
    result.duplicate_source += sum(n - 1 for n in source.values() if n > 1)
    result.duplicate_target += sum(n - 1 for n in target.values() if n > 1)
    for found, kept in ((missing, result.sample_missing), (extra, result.sample_extra),
                        (sorted(k for k, n in target.items() if n > 1), result.sample_duplicate)):
        kept.extend(found[: sample - len(kept)])
    return (source != target or bool(differing) or any(n > 1 for n in source.values())
            or any(n > 1 for n in target.values()))

"""A KeySide over rows held in memory: the buckets, hashes and row digests of key_buckets, in Python."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from realtime_platform.key_buckets import Aggregate, Buckets, Key, Row, key_hash
from realtime_platform.column_types import row_digest_value


class MemorySide:
    """Keys, one per row, and optionally each row's column values (canonical texts) by column name."""

    def __init__(self, label: str, keys: Iterable[Iterable[int]],
                 contents: Sequence[Mapping[str, str | None]] | None = None):
        self.label = label
        self.keys = [tuple(int(v) for v in k) for k in keys]
        self.contents = list(contents) if contents is not None else None
        self.fetched: list[tuple[int, int]] = []  # key ranges asked for

    def _digest(self, i: int) -> tuple[int, ...]:
        return () if self.contents is None else (row_digest_value(list(self.contents[i].values())),)

    def bounds(self) -> tuple[int | None, int | None, int]:
        firsts = [k[0] for k in self.keys]
        return (min(firsts, default=None), max(firsts, default=None), len(self.keys))

    def aggregates(self, buckets: Buckets, start: int | None = None, end: int | None = None) -> dict[int, Aggregate]:
        out: dict[int, list[int]] = {}
        for i, key in enumerate(self.keys):
            if (start is not None and key[0] < start) or (end is not None and key[0] >= end):
                continue
            sums = (1, *key_hash(key), *self._digest(i))
            agg = out.setdefault(buckets.of(key[0]), [0] * len(sums))
            out[buckets.of(key[0])] = [a + b for a, b in zip(agg, sums)]
        return {b: tuple(a) for b, a in out.items()}

    def aggregates_in(self, buckets: Buckets, ranges: Sequence[tuple[int, int]]) -> dict[int, Aggregate]:
        out: dict[int, Aggregate] = {}
        for start, end in ranges:  # disjoint: buckets split across two ranges are summed
            for bucket, sums in self.aggregates(buckets, start, end).items():
                out[bucket] = tuple(a + b for a, b in zip(out.get(bucket, (0,) * len(sums)), sums))
        return out

    def rows(self, start: int, end: int) -> list[Row]:
        self.fetched.append((start, end))
        return [(k, self._digest(i)) for i, k in enumerate(self.keys) if start <= k[0] < end]

    def values(self, keys: Sequence[Key]) -> dict[Key, dict[str, str | None]]:
        wanted = set(keys)
        return {k: dict(self.contents[i]) for i, k in enumerate(self.keys)
                if k in wanted and self.contents is not None}

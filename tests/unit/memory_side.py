"""A KeySide over keys held in memory: the buckets and hashes of key_buckets, computed in Python."""

from __future__ import annotations

from collections.abc import Iterable

from realtime_platform.airflow.key_buckets import Aggregate, Buckets, Key, key_hash


class MemorySide:
    def __init__(self, label: str, keys: Iterable[Iterable[int]]):
        self.label = label
        self.rows = [tuple(int(v) for v in k) for k in keys]
        self.fetched: list[tuple[int, int]] = []  # key ranges asked for

    def bounds(self) -> tuple[int | None, int | None, int]:
        firsts = [k[0] for k in self.rows]
        return (min(firsts, default=None), max(firsts, default=None), len(self.rows))

    def aggregates(self, buckets: Buckets, start: int | None = None, end: int | None = None) -> dict[int, Aggregate]:
        out: dict[int, list[int]] = {}
        for key in self.rows:
            if (start is not None and key[0] < start) or (end is not None and key[0] >= end):
                continue
            bucket = buckets.of(key[0])
            h1, h2 = key_hash(key)
            agg = out.setdefault(bucket, [0, 0, 0])
            agg[0], agg[1], agg[2] = agg[0] + 1, agg[1] + h1, agg[2] + h2
        return {b: tuple(a) for b, a in out.items()}

    def keys(self, start: int, end: int) -> list[Key]:
        self.fetched.append((start, end))
        return [k for k in self.rows if start <= k[0] < end]

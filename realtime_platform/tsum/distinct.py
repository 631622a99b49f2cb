"""The one pass over the data: distinct rows with their counts.

Everything the greedy search needs is a function of the distinct rows, how often each
occurs, and where each first occurs (for the reference's tie order). This module builds
that table once -- vectorised for pandas, as a tree reduction of per-partition tables for
Dask -- and nothing downstream looks at the raw rows again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from realtime_platform.tsum import emulation

# Internal column names for the per-partition tables (chosen not to clash).
COUNT = "__tsum_count__"
FIRST = "__tsum_first__"
# Partition number goes above this many bits of row position in the FIRST key.
_POSITION_BITS = 40
# Combined row keys stay below this; larger ones are re-numbered densely first.
_KEY_LIMIT = 1 << 62
# Key ranges up to this size are counted with bincount (memory ~ 16 bytes per key).
_DENSE_KEYS = 1 << 22
# Partial tables merged per step of the Dask tree reduction.
_SPLIT_EVERY = 8
# In-memory frames longer than this are grouped in chunks on several threads.
_CHUNK_ROWS = 1 << 19


@dataclass(frozen=True)
class DistinctRows:
    """The table reduced to its distinct rows, in order of first appearance.

    frame:       one row per distinct row, with the dtypes the reference would see.
    counts:      how many rows of the input equal each distinct row (int64).
    first:       sortable key of each distinct row's first occurrence (int64).
    total_rows:  rows of the input.
    npartitions: partitions of the Dask frame the reference would read (tie order).
    """

    frame: pd.DataFrame
    counts: np.ndarray
    first: np.ndarray
    total_rows: int
    npartitions: int


def column_codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes such that two rows share a code iff `==` treats the values alike.

    Returns (codes, number of codes); codes are a small integer dtype. Missing values get
    a code of their own; the fast paths avoid hashing where the dtype allows.
    """
    n = len(series)
    dtype = series.dtype
    if emulation.is_arrow_string_dtype(dtype):
        # Arrow's hash kernel is several times faster than pandas' on string data, and a
        # chunked input yields one dictionary shared by all chunks.
        encoded = pc.dictionary_encode(series.array.__arrow_array__(), null_encoding="encode")
        if encoded.num_chunks == 0:
            return np.zeros(0, dtype=np.int32), 0
        chunks = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
        codes = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        return codes, len(encoded.chunk(0).dictionary)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return series.to_numpy().view(np.int8), 2
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and n:
        values = series.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low < max(2 * n, 1 << 16):
            # Small value range: the offset is a code, no hashing needed.
            return (values - low).astype(np.int64), high - low + 1
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return codes, len(uniques)


def _row_keys(df: pd.DataFrame) -> tuple[np.ndarray, int]:
    """One int64 key per row, equal iff the rows are equal; and the key range."""
    key: np.ndarray | None = None
    card = 1
    for name in df.columns:
        codes, n_codes = column_codes(df[name])
        n_codes = max(n_codes, 1)
        if key is None:
            key = codes.astype(np.int64)
        else:
            if card * n_codes >= _KEY_LIMIT:
                key, uniques = pd.factorize(key)
                card = max(len(uniques), 1)
            # In place: the key array is the only large temporary.
            np.multiply(key, n_codes, out=key)
            np.add(key, codes, out=key, casting="unsafe")
        card *= n_codes
    assert key is not None
    return key, card


def _first_positions_small(key: np.ndarray, card: int, n_present: int) -> np.ndarray:
    """First position of each key value (-1 if absent), scanning a growing prefix.

    Distinct rows usually all show up early, so this stops long before the end.
    """
    found = np.full(card, -1, dtype=np.int64)
    left, start, block = n_present, 0, 4096
    while left > 0 and start < len(key):
        chunk = key[start : start + block]
        values, index = np.unique(chunk, return_index=True)
        new = found[values] < 0
        found[values[new]] = start + index[new]
        left -= int(np.count_nonzero(new))
        start += block
        block *= 2
    return found


def _weighted_bincount(ids: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    if weights is None:
        return np.bincount(ids, minlength=size).astype(np.int64)
    # float64 sums are exact below 2**53 rows.
    return np.rint(np.bincount(ids, weights=weights.astype(np.float64), minlength=size)).astype(np.int64)


def group_rows(df: pd.DataFrame, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of df: (position of first occurrence, total weight), by first occurrence.

    Missing values are equal to each other here (they form one group), as in
    `groupby(..., dropna=False)`.
    """
    n = len(df)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if df.shape[1] == 0:
        total = n if weights is None else int(np.asarray(weights).sum())
        return np.zeros(1, dtype=np.int64), np.array([total], dtype=np.int64)
    key, card = _row_keys(df)
    if card <= min(max(n, 1 << 16), _DENSE_KEYS):
        counts = _weighted_bincount(key, weights, card)
        present = np.flatnonzero(counts)
        found = _first_positions_small(key, card, len(present))
        present = present[np.argsort(found[present], kind="stable")]
        return found[present], counts[present]
    # Large key range: number keys densely; factorize numbers them by first appearance.
    ids, uniques = pd.factorize(key)
    counts = _weighted_bincount(ids, weights, len(uniques))
    # A row is a first occurrence exactly where the running maximum of ids grows.
    running = np.maximum.accumulate(ids)
    is_first = np.empty(n, dtype=bool)
    is_first[0] = True
    np.greater(running[1:], running[:-1], out=is_first[1:])
    return np.flatnonzero(is_first).astype(np.int64), counts


def _partial(df: pd.DataFrame, base: int) -> pd.DataFrame:
    """Distinct rows of one partition or chunk, with counts and first-occurrence keys.

    base is added to row positions to make the keys global: the chunk's first row for
    in-memory chunks, partition << 40 for Dask partitions.
    """
    positions, counts = group_rows(df)
    out = df.take(positions).reset_index(drop=True)
    out[COUNT] = counts
    out[FIRST] = np.int64(base) + positions
    return out


def _merge(*parts: pd.DataFrame) -> pd.DataFrame:
    """Merge partial tables: sum counts, keep the earliest first-occurrence key."""
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame = frame.sort_values(FIRST, kind="stable", ignore_index=True)
    values = frame.drop(columns=[COUNT, FIRST])
    positions, counts = group_rows(values, weights=frame[COUNT].to_numpy())
    out = frame.take(positions).reset_index(drop=True)
    out[COUNT] = counts
    return out


def _threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def from_pandas(df: pd.DataFrame, npartitions: int = 1) -> DistinctRows:
    """Distinct rows of an in-memory frame, as the reference would see it through Dask.

    Large frames are cut into row chunks grouped on several threads (Arrow and numpy
    release the GIL), then merged like Dask partitions.
    """
    df = emulation.as_dask_sees(df)
    n = len(df)
    workers = min(_threads(), -(-n // _CHUNK_ROWS))
    if workers <= 1:
        positions, counts = group_rows(df)
        frame, first = df.take(positions).reset_index(drop=True), positions
    else:
        bounds = np.linspace(0, n, workers + 1).astype(np.int64)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda i: _partial(df.iloc[bounds[i] : bounds[i + 1]], int(bounds[i])), range(workers)))
        table = _merge(*parts)
        counts, first = table[COUNT].to_numpy(dtype=np.int64), table[FIRST].to_numpy(dtype=np.int64)
        frame = table.drop(columns=[COUNT, FIRST])
    return DistinctRows(
        frame=frame,
        counts=counts,
        first=first,
        total_rows=n,
        npartitions=emulation.from_pandas_npartitions(df.index, npartitions),
    )


def from_dask(ddf: Any, scheduler: str | None = None, npartitions: int | None = None) -> DistinctRows:
    """Distinct rows of a Dask frame in one pass: per-partition tables, merged as a tree.

    Memory needed is about the size of the distinct-row table, not of the data. With
    `scheduler` (an address such as "tcp://host:8786") the pass runs on that cluster;
    otherwise on the caller's current Client if any, else Dask's default scheduler.
    """
    import dask
    from dask import delayed

    parts = [delayed(_partial)(part, i << _POSITION_BITS) for i, part in enumerate(ddf.to_delayed())]
    while len(parts) > 1:
        parts = [delayed(_merge)(*parts[i : i + _SPLIT_EVERY]) for i in range(0, len(parts), _SPLIT_EVERY)]
    final = parts[0] if parts else None
    if final is None:
        table = ddf._meta.assign(**{COUNT: np.int64(0), FIRST: np.int64(0)}).iloc[:0]
    elif scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            table = client.compute(final).result()
    else:
        (table,) = dask.compute(final)
    table = table.sort_values(FIRST, kind="stable", ignore_index=True)
    counts = table[COUNT].to_numpy(dtype=np.int64)
    return DistinctRows(
        frame=table.drop(columns=[COUNT, FIRST]),
        counts=counts,
        first=table[FIRST].to_numpy(dtype=np.int64),
        total_rows=int(counts.sum()),
        npartitions=int(npartitions or ddf.npartitions),
    )


def from_weighted(df: pd.DataFrame, weight: str) -> DistinctRows:
    """The distinct-row table of a weighted table: each row stands for `weight` equal rows.

    This is the input a database's `GROUP BY <columns>` with `count(*)` returns. Such a result
    has no row order, so the rows are put in a canonical one first: sorted by the columns'
    values, in column order, NULLs last (after the dtype conversion Dask would apply). The
    result is that of the expanded table -- every row repeated `weight` times -- in that order.
    Equal rows may occur more than once (partial groupings); their weights add up. Rows of
    weight 0 stand for nothing and are dropped.
    """
    if weight not in df.columns:
        raise ValueError(f"weight column {weight!r} not in {list(df.columns)}")
    raw = df[weight]
    if raw.isna().any() or not pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        raise ValueError(f"weight column {weight!r} must hold whole numbers >= 0, got dtype {raw.dtype}")
    weights = raw.to_numpy()
    if (weights < 0).any() or (weights != np.floor(weights)).any():
        raise ValueError(f"weight column {weight!r} must hold whole numbers >= 0")
    weights = weights.astype(np.int64)
    values = emulation.as_dask_sees(df.drop(columns=[weight]).reset_index(drop=True))
    keep = np.flatnonzero(weights > 0)
    values, weights = values.take(keep).reset_index(drop=True), weights[keep]
    if values.shape[1] and len(values):
        order = values.sort_values(list(values.columns), na_position="last", kind="stable").index.to_numpy()
        values, weights = values.take(order).reset_index(drop=True), weights[order]
    positions, counts = group_rows(values, weights=weights)
    # Where each row's first copy sits in the expanded table.
    starts = np.concatenate([[0], np.cumsum(weights)[:-1]]).astype(np.int64)
    return DistinctRows(
        frame=values.take(positions).reset_index(drop=True),
        counts=counts,
        first=starts[positions] if len(positions) else np.zeros(0, dtype=np.int64),
        total_rows=int(weights.sum()),
        npartitions=1,
    )


def distinct_rows(
    data: Any,
    columns: Sequence[Any] | None = None,
    scheduler: str | None = None,
    npartitions: int | None = None,
) -> DistinctRows:
    """Dispatch on the input type: pandas DataFrame or Dask DataFrame."""
    if isinstance(data, pd.DataFrame):
        frame = data if columns is None else data[list(columns)]
        return from_pandas(frame, npartitions or 1)
    if _is_dask_frame(data):
        frame = data if columns is None else data[list(columns)]
        return from_dask(frame, scheduler=scheduler, npartitions=npartitions)
    raise TypeError(f"expected a pandas or Dask DataFrame, got {type(data).__name__}")


def _is_dask_frame(data: Any) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:
        return False
    return isinstance(data, dd.DataFrame)

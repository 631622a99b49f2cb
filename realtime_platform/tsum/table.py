"""The distinct-row table in the integer form the greedy search works on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from realtime_platform.tsum import emulation
from realtime_platform.tsum.distinct import DistinctRows


@dataclass(frozen=True)
class Column:
    """One column of the distinct-row table.

    codes:    value code of each distinct row (int64); equal codes <=> `==` values.
    values:   the Python object for each code, as the reference gets it from Dask.
    missing:  per code, whether the value is NULL/NaN (it never matches anything).
    na_rows:  per distinct row, whether a comparison yields NA there (see
              emulation.compares_as_na); None when the column never does that.
    buckets:  per code, the output partition of Dask's unique() (value tie order).
    """

    name: Any
    codes: np.ndarray
    values: list[Any]
    missing: np.ndarray
    na_rows: np.ndarray | None
    buckets: np.ndarray


@dataclass(frozen=True)
class EncodedTable:
    """Distinct rows as integer codes, with weights and first-occurrence keys."""

    columns: tuple[Column, ...]
    counts: np.ndarray
    first: np.ndarray
    total_rows: int
    stable_names: bool

    @property
    def names(self) -> list[Any]:
        return [c.name for c in self.columns]


def _first_occurrences(codes: np.ndarray) -> np.ndarray:
    """Positions where each code first occurs, for codes numbered by first appearance."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.maximum.accumulate(codes)
    is_first = np.empty(len(codes), dtype=bool)
    is_first[0] = True
    np.greater(running[1:], running[:-1], out=is_first[1:])
    return np.flatnonzero(is_first)


def encode_column(name: Any, series: pd.Series, npartitions: int) -> Column:
    """Codes, representative values and tie-order facts for one column."""
    codes, _ = pd.factorize(series, use_na_sentinel=False)
    codes = codes.astype(np.int64, copy=False)
    # Rows come in first-appearance order and factorize numbers codes the same way, so
    # each code's representative is its first row, as Dask's unique() would return it.
    representatives = series.iloc[_first_occurrences(codes)]
    missing = representatives.isna().to_numpy(dtype=bool)
    na_rows = missing[codes] if emulation.compares_as_na(series.dtype) and missing.any() else None
    return Column(
        name=name,
        codes=codes,
        values=emulation.python_values(representatives),
        missing=missing,
        na_rows=na_rows,
        buckets=emulation.unique_buckets(representatives, npartitions),
    )


def encode(distinct: DistinctRows) -> EncodedTable:
    """Encode every column of the distinct-row table."""
    names = list(distinct.frame.columns)
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be unique, got {names}")
    columns = tuple(encode_column(n, distinct.frame[n], distinct.npartitions) for n in names)
    return EncodedTable(
        columns=columns,
        counts=np.asarray(distinct.counts, dtype=np.int64),
        first=np.asarray(distinct.first, dtype=np.int64),
        total_rows=int(distinct.total_rows),
        stable_names=emulation.has_stable_hashes(names),
    )

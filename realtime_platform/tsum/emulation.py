"""What the reference (`tsum` 0.1.0 on a Dask DataFrame) sees, reproduced on small data.

The reference's choices depend on details of Dask and pandas rather than on the data
alone. Each function here reproduces one of them so that the engine can make the same
choice from the distinct-row table:

- the dtypes a pandas frame gets once Dask holds it (object and str columns become
  pyarrow-backed strings whose missing value is pd.NA);
- which columns compare to NULL as NA rather than False (the residue quirk);
- the order in which `Series.unique()` hands values back (hash bucket, then first
  appearance), which decides ties between values of one column;
- the order in which a Python set yields column names, where it is not randomised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# Column-name types whose hash does not depend on PYTHONHASHSEED.
_STABLE_HASH_TYPES = (int, float, type(None))


def dask_converts_strings() -> bool:
    """Dask's `dataframe.convert-string` setting (on unless turned off)."""
    try:
        import dask
    except ImportError:  # pandas-only install: behave like Dask's default
        return True
    value = dask.config.get("dataframe.convert-string", None)
    return True if value is None else bool(value)


def _is_object_string_dtype(dtype: Any) -> bool:
    # Mirrors dask.dataframe._pyarrow.is_object_string_dtype: any object or string dtype
    # that is not already a pyarrow string with pd.NA as its missing value.
    pyarrow_strings = (pd.StringDtype("pyarrow"), pd.ArrowDtype(pa.string()))
    return pd.api.types.is_string_dtype(dtype) and dtype not in pyarrow_strings


def as_dask_sees(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as `dd.from_pandas(df)` holds it: same dtypes, same row order.

    from_pandas sorts an unsorted index, and (by default) casts object/str columns to
    pyarrow strings -- so 1 and "1" in an object column both become "1", and None -> NA.
    """
    if not df.index.is_monotonic_increasing:
        df = df.sort_index()
    if dask_converts_strings():
        casts = {c: pd.StringDtype("pyarrow") for c, t in df.dtypes.items() if _is_object_string_dtype(t)}
        if casts:
            df = df.astype(casts)
    return df


def from_pandas_npartitions(index: pd.Index, npartitions: int) -> int:
    """How many partitions `dd.from_pandas(df, npartitions=...)` really makes."""
    if npartitions <= 1 or len(index) == 0:
        return 1
    try:
        import dask.dataframe as dd
    except ImportError:
        return npartitions
    return int(dd.from_pandas(pd.DataFrame(index=index), npartitions=npartitions).npartitions)


def compares_as_na(dtype: Any) -> bool:
    """True when `column == value` yields NA (not False) at missing entries.

    The reference removes covered rows with `T[~condition]`; NA there drops the row, so in
    such columns a NULL under a pattern's attribute removes the row from the residue even
    though the row does not match.
    """
    return getattr(dtype, "na_value", None) is pd.NA


def is_arrow_string_dtype(dtype: Any) -> bool:
    """pyarrow-backed string dtypes, whose comparisons run in Arrow."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    )


def python_values(values: pd.Series) -> list[Any]:
    """The objects the reference measures: what iterating the column yields
    (int64 -> int, Int64 -> np.int64, strings -> str), in the state it measures them.

    The reference compares a value with its column before sys.getsizeof sees it. For Arrow
    string columns that comparison hands the str to pyarrow, which makes CPython cache a
    UTF-8 copy inside the object -- and getsizeof counts that copy for non-ASCII text
    ("bé": 75 bytes fresh, 79 after). Passing the values through pyarrow does the same.
    """
    out = list(values)
    if is_arrow_string_dtype(values.dtype):
        pa.array([v for v in out if isinstance(v, str)], type=pa.large_string())
    return out


def unique_buckets(values: pd.Series, npartitions: int) -> np.ndarray:
    """Output partition of each value in Dask's shuffle-based `unique()`.

    Dask hashes the values (numeric ones cast to float64 first) into as many buckets as
    the frame has partitions, and concatenates the buckets in order; within a bucket the
    values keep their order of first appearance.
    """
    if npartitions <= 1 or len(values) == 0:
        return np.zeros(len(values), dtype=np.int64)
    frame = values.reset_index(drop=True).to_frame()
    dtype = frame.dtypes.iloc[0]
    numeric = pd.api.types.is_numeric_dtype(dtype) or (
        isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(dtype.categories)
    )
    if numeric:
        frame = frame.astype(np.float64, errors="ignore")
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return (hashes % np.uint64(npartitions)).astype(np.int64)


def has_stable_hashes(names: Iterable[Any]) -> bool:
    """Whether a set of these names iterates in the same order under any hash seed."""
    return all(type(n) in _STABLE_HASH_TYPES or isinstance(n, bool) for n in names)


def attribute_order(columns: Sequence[Any], used: Iterable[Any], stable: bool) -> list[Any]:
    """Order in which the reference's `expand` tries the columns not yet in a pattern.

    It iterates `set(columns) - set(used)`. For str names that order changes with
    PYTHONHASHSEED, so we use the table's column order (one of the orders a set can
    produce). For int/float names the order is fixed, and we reproduce it.
    """
    used_set = set(used)
    if stable:
        return list(set(columns) - used_set)
    return [c for c in columns if c not in used_set]

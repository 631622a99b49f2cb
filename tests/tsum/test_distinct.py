"""The one pass: distinct rows, counts and first occurrences, pandas and Dask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from realtime_platform.tsum import distinct
from realtime_platform.tsum.distinct import from_dask, from_pandas, group_rows


def _expected(df: pd.DataFrame) -> tuple[list[int], list[int]]:
    # Reference implementation: pandas groupby keeps NULL groups with dropna=False.
    keys = df.astype(object).where(df.notna(), None)
    rows = [tuple(r) for r in keys.itertuples(index=False)]
    first: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    for i, r in enumerate(rows):
        first.setdefault(r, i)
        counts[r] = counts.get(r, 0) + 1
    order = sorted(first, key=first.get)
    return [first[r] for r in order], [counts[r] for r in order]


def _random_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "s": pd.array(rng.choice(["a", "bb", "c", None], n), dtype=pd.StringDtype("pyarrow")),
            "i": rng.integers(-3, 3, n),
            "f": rng.choice([0.5, np.nan, 2.0], n),
            "b": rng.choice([True, False], n),
            "big": rng.choice([1, 10**15, -(10**12)], n),
        }
    )


@pytest.mark.parametrize("n", [1, 7, 500, 20_000])
def test_group_rows_matches_plain_python(n: int) -> None:
    df = _random_frame(np.random.default_rng(n), n)
    positions, counts = group_rows(df)
    exp_positions, exp_counts = _expected(df)
    assert positions.tolist() == exp_positions
    assert counts.tolist() == exp_counts


def test_group_rows_large_key_space(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the factorize path used for high-cardinality keys.
    monkeypatch.setattr(distinct, "_DENSE_KEYS", 1)
    df = _random_frame(np.random.default_rng(3), 3000)
    positions, counts = group_rows(df)
    assert (positions.tolist(), counts.tolist()) == _expected(df)


def test_group_rows_weighted_and_empty() -> None:
    df = pd.DataFrame({"a": ["x", "y", "x"]})
    positions, counts = group_rows(df, weights=np.array([2, 3, 4]))
    assert positions.tolist() == [0, 1] and counts.tolist() == [6, 3]
    positions, counts = group_rows(df.iloc[:0])
    assert len(positions) == 0 and len(counts) == 0


def test_pandas_input_is_seen_as_dask_sees_it() -> None:
    df = pd.DataFrame({"mixed": [1, "1", None, True], "s": ["a", "a", "b", "b"]}, index=[3, 1, 2, 0])
    rows = from_pandas(df)
    # Sorted by index like from_pandas; object -> pyarrow strings, so 1 and "1" merge.
    assert str(rows.frame["mixed"].dtype) == "string"
    assert rows.frame["mixed"].tolist() == ["True", "1", pd.NA]
    assert rows.counts.tolist() == [1, 2, 1]
    assert rows.total_rows == 4


@pytest.mark.parametrize("npartitions", [1, 3, 8])
def test_dask_pass_equals_pandas_pass(npartitions: int) -> None:
    import dask.dataframe as dd
    df = _random_frame(np.random.default_rng(11), 5000)
    ddf = dd.from_pandas(df, npartitions=npartitions)
    a = from_pandas(df)
    b = from_dask(ddf)
    assert b.total_rows == a.total_rows == len(df)
    assert b.npartitions == ddf.npartitions
    pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=True)
    assert a.counts.tolist() == b.counts.tolist()
    # Dask keys are (partition, position); the order they give is the global order.
    assert np.all(np.diff(b.first) > 0)


def test_threaded_chunks_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _random_frame(np.random.default_rng(5), 20_000)
    one = from_pandas(df)
    monkeypatch.setattr(distinct, "_CHUNK_ROWS", 1000)
    monkeypatch.setattr(distinct, "_threads", lambda: 4)
    chunked = from_pandas(df)
    pd.testing.assert_frame_equal(one.frame, chunked.frame)
    assert one.counts.tolist() == chunked.counts.tolist()
    assert one.first.tolist() == chunked.first.tolist()

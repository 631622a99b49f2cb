"""Dask input gives the same result as pandas input (threaded, distributed, Parquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from realtime_platform.tsum import summarize
from tests.tsum.test_engine import patient_data

import dask.dataframe as dd


def _random_frame(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hot = rng.integers(0, 4, n)  # correlated columns, so that there are patterns
    return pd.DataFrame(
        {
            "s": np.array(["a", "b", "c", "d"], dtype=object)[hot],
            "t": np.where(rng.random(n) < 0.8, np.array(["x", "y", "x", "z"], dtype=object)[hot], None),
            "i": np.where(rng.random(n) < 0.9, hot * 10, rng.integers(0, 100, n)),
            "f": np.where(rng.random(n) < 0.1, np.nan, hot / 2),
            "b": hot % 2 == 0,
        }
    )


def _as_tuples(summary) -> list:
    return [(p.pattern, p.saving, p.coverage) for p in summary]


@pytest.mark.parametrize("npartitions", [1, 4, 7])
def test_dask_equals_pandas(npartitions: int) -> None:
    df = _random_frame(npartitions)
    ours_pandas = summarize(df, npartitions=npartitions)
    ours_dask = summarize(dd.from_pandas(df, npartitions=npartitions))
    assert ours_pandas, "the frame has patterns"
    assert _as_tuples(ours_dask) == _as_tuples(ours_pandas)
    assert ours_dask.total_rows == ours_pandas.total_rows == len(df)
    assert ours_dask.uncovered_rows == ours_pandas.uncovered_rows


def test_published_example_through_dask() -> None:
    df = patient_data()
    assert _as_tuples(summarize(dd.from_pandas(df, npartitions=4))) == _as_tuples(summarize(df))


def test_columns_and_paper_model_through_dask() -> None:
    df = _random_frame(3)
    ddf = dd.from_pandas(df, npartitions=3)
    for kwargs in ({"columns": ["s", "i"]}, {"cost_model": "paper"}):
        assert _as_tuples(summarize(ddf, **kwargs)) == _as_tuples(summarize(df, npartitions=3, **kwargs))


def test_distributed_scheduler_address() -> None:
    import distributed
    df = _random_frame(5)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        got = summarize(dd.from_pandas(df, npartitions=4), scheduler=cluster.scheduler_address)
    assert _as_tuples(got) == _as_tuples(summarize(df, npartitions=4))


def test_parquet_through_dask_equals_pandas(tmp_path) -> None:
    df = _random_frame(9, n=5000)
    path = tmp_path / "t.parquet"
    df.to_parquet(path, row_group_size=1000)
    via_dask = summarize(dd.read_parquet(path))
    via_pandas = summarize(pd.read_parquet(path))
    assert {frozenset(p.pattern.items()) for p in via_dask} == {frozenset(p.pattern.items()) for p in via_pandas}
    assert sorted(p.saving for p in via_dask) == sorted(p.saving for p in via_pandas)

"""`summarize_weighted`: a table of distinct rows with counts gives what the expanded table gives.

Property tests, reproducible (hypothesis seed TSUM_HYPOTHESIS_SEED, default 20261127; no example
database, no shrinking):
- against the unweighted path: the weighted result equals `summarize` of the expanded table in
  the documented order (rows sorted by value, NULLs last), whatever the weighted table's own row
  order and however its groups are split into repeated partial groups;
- against the reference (`tsum` 0.1.0): on tables where no tie makes the row order matter
  (every row order we try gives one and the same possible result), the reference's result on a
  shuffled expansion equals the weighted result.
Counts are printed at the end of the run (tests/tsum/conftest.py).
"""

from __future__ import annotations

import os
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st

from realtime_platform.tsum import summarize, summarize_weighted
from realtime_platform.tsum.emulation import as_dask_sees
from tests.tsum.conftest import PROPERTY_STATS
from tests.tsum import reference as ref
from tests.tsum.test_property_reference import tables

HYPOTHESIS_SEED = int(os.environ.get("TSUM_HYPOTHESIS_SEED", "20261127"))
EXAMPLES = int(os.environ.get("TSUM_WEIGHTED_EXAMPLES", "150"))
REFERENCE_EXAMPLES = int(os.environ.get("TSUM_WEIGHTED_REFERENCE_EXAMPLES", "12"))
JOB_BUDGET = int(os.environ.get("TSUM_REFERENCE_JOB_BUDGET", "150"))
ORDERS_TRIED = 4  # row orders of the expansion checked for ties that depend on order

SETTINGS = dict(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def grouped(df: pd.DataFrame) -> pd.DataFrame:
    """df's distinct rows with a `count` column, in first-appearance order (no pandas groupby:
    it cannot sort mixed-type object columns)."""
    counts = Counter(df.itertuples(index=False, name=None))
    rows = list(counts)
    out = pd.DataFrame(rows, columns=list(df.columns)) if rows else df.iloc[:0].copy()
    out = out.astype(df.dtypes.to_dict()) if not rows else out
    out["count"] = [counts[r] for r in rows]
    return out


def expanded_in_documented_order(weighted: pd.DataFrame) -> pd.DataFrame:
    """Each row repeated `count` times, rows sorted by value (as Dask holds them), NULLs last."""
    values = as_dask_sees(weighted.drop(columns=["count"]).reset_index(drop=True))
    counts = weighted["count"].to_numpy()
    order = values.sort_values(list(values.columns), na_position="last", kind="stable").index.to_numpy()
    return values.take(np.repeat(order, counts[order])).reset_index(drop=True)


def result(summary) -> tuple:
    """Everything, in order: the patterns' attribute order and the order of equal savings
    follow the tie rule, so this is sensitive to it."""
    patterns = tuple((tuple(p.pattern.items()), p.saving, p.coverage) for p in summary)
    return patterns, summary.total_rows, summary.uncovered_rows


@settings(max_examples=EXAMPLES, **SETTINGS)
@seed(HYPOTHESIS_SEED)
@given(case=tables(), shuffle_seed=st.integers(0, 2**32 - 1), split=st.booleans())
def test_weighted_equals_expanded_table(case, shuffle_seed: int, split: bool) -> None:
    df, _ = case
    weighted = grouped(df)
    expected = result(summarize(expanded_in_documented_order(weighted)))
    if split:
        # Partial groupings (as from several partitions): the same group twice, weights add up.
        halves = weighted.assign(count=weighted["count"] // 2)
        weighted = pd.concat([halves, weighted.assign(count=weighted["count"] - halves["count"])])
    shuffled = weighted.sample(frac=1, random_state=shuffle_seed % 2**32)
    assert result(summarize_weighted(shuffled, weight="count")) == expected
    PROPERTY_STATS["weighted vs expanded: examples"] += 1


@settings(max_examples=REFERENCE_EXAMPLES, **SETTINGS)
@seed(HYPOTHESIS_SEED)
@given(case=tables(), order_seed=st.integers(0, 2**32 - 1))
def test_weighted_matches_reference_where_order_does_not_matter(reference_runners, case, order_seed) -> None:
    df, _ = case
    rng = random.Random(order_seed)
    orders = [df.sample(frac=1, random_state=rng.randrange(2**32)).reset_index(drop=True)
              for _ in range(ORDERS_TRIED)]
    assume(ref.reference_job_estimate(ref.encoded(orders[0])) <= JOB_BUDGET)
    outcomes = set()
    for frame in orders:
        outcomes |= ref.possible_results(ref.encoded(frame))
    if len(outcomes) > 1:
        PROPERTY_STATS["weighted vs reference: skipped, order or ties matter"] += 1
        assume(False)
    ours = ref.canonical(summarize_weighted(grouped(df), weight="count"))
    replies = ref.run_references(reference_runners, orders[0])
    compared = [r for r in replies if not isinstance(r, ref.ReferenceFailure)]
    assert compared, f"the reference raised: {replies}"
    for reply in compared:
        assert ref.canonical(reply) == ours
    PROPERTY_STATS["weighted vs reference: examples"] += 1


def test_counts_from_a_group_by() -> None:
    weighted = pd.DataFrame({"status": ["paid", "new", "paid", None], "channel": ["web", "web", "app", "web"],
                             "count": [600, 250, 100, 50]})
    summary = summarize_weighted(weighted)
    assert summary.total_rows == 1000 and summary.distinct_rows == 4
    assert summary[0].pattern == {"status": "paid", "channel": "web"} and summary[0].coverage == 60.0


def test_zero_weights_stand_for_nothing() -> None:
    weighted = pd.DataFrame({"a": ["x", "y"], "count": [5, 0]})
    assert summarize_weighted(weighted).total_rows == 5
    assert summarize_weighted(weighted.iloc[:0]).total_rows == 0


@pytest.mark.parametrize("counts", [[1, -1], [1.5, 2], [1, None], [True, False]])
def test_bad_weights_are_refused(counts) -> None:
    with pytest.raises(ValueError, match="weight column 'count'"):
        summarize_weighted(pd.DataFrame({"a": ["x", "y"], "count": counts}))


def test_missing_weight_column_is_named() -> None:
    with pytest.raises(ValueError, match="'n' not in"):
        summarize_weighted(pd.DataFrame({"a": ["x"]}), weight="n")

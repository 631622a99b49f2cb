"""Engine behaviour on edge cases, ordering, the result object and the paper model."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

from realtime_platform.tsum import Pattern, Summary, summarize
from realtime_platform.tsum.cost import reference_bits, reference_log
from realtime_platform.tsum.examples import PATIENT_COLUMNS, PATIENT_ROWS


def patient_data(n: int = 1) -> pd.DataFrame:
    return pd.DataFrame(list(PATIENT_ROWS) * n, columns=list(PATIENT_COLUMNS))


def test_result_object_shape() -> None:
    summary = summarize(patient_data())
    assert isinstance(summary, Summary)
    assert len(summary) == 2 and isinstance(summary[0], Pattern)
    assert [p.saving for p in summary] == sorted((p.saving for p in summary), reverse=True)
    assert all(isinstance(p.saving, int) and isinstance(p.coverage, float) for p in summary)
    assert summary.total_rows == 10 and summary.distinct_rows == 7
    # (F, child, normal) and (M, teen, high) match neither pattern.
    assert summary.uncovered_rows == 2 and summary.uncovered_share == 20.0
    assert summary.to_dict()["patterns"][0] == {
        "pattern": {"gender": "M", "age": "adult"},
        "saving": 3313,
        "coverage": 50.0,
    }
    assert len({summary[0], summary[0]}) == 1  # hashable


def test_columns_argument_restricts_d() -> None:
    full = summarize(patient_data(10))
    only = summarize(patient_data(10), columns=["gender", "age"])
    assert all(set(p.pattern) <= {"gender", "age"} for p in only)
    assert only != full


def test_empty_table() -> None:
    summary = summarize(patient_data().iloc[:0])
    assert list(summary) == []
    assert (summary.total_rows, summary.uncovered_rows, summary.uncovered_share) == (0, 0, 0.0)


def test_no_columns() -> None:
    summary = summarize(pd.DataFrame(index=range(5)))
    assert list(summary) == [] and summary.uncovered_rows == 5


def test_one_column_every_repeated_value_is_a_pattern() -> None:
    df = pd.DataFrame({"a": ["x"] * 5 + ["y"] * 2 + ["z"]})
    summary = summarize(df)
    assert [(p.pattern, p.coverage) for p in summary] == [({"a": "x"}, 62.5), ({"a": "y"}, 25.0)]
    bits = reference_bits("x")
    assert summary[0].saving == 4 * bits - reference_log(5)
    assert summary.uncovered_rows == 1


def test_all_rows_equal() -> None:
    df = pd.DataFrame({"a": ["x"] * 4, "n": [7] * 4, "f": [0.5] * 4, "b": [True] * 4})
    (pattern,) = summarize(df)
    assert pattern.pattern == {"a": "x", "n": 7, "f": 0.5, "b": True}
    assert pattern.coverage == 100.0
    w = sum(reference_bits(v) for v in ("x", 7, 0.5, True))
    assert pattern.saving == 3 * w - 4 * reference_log(4)
    # A single row never saves anything.
    assert list(summarize(df.iloc[:1])) == []


def test_values_are_plain_python_like_the_reference_sees() -> None:
    df = pd.DataFrame({"i": [1, 1, 1], "f": [2.5, 2.5, 2.5], "b": [False, False, False]})
    (pattern,) = summarize(df)
    assert {k: type(v) for k, v in pattern.pattern.items()} == {"i": int, "f": float, "b": bool}


def test_nulls_never_match() -> None:
    df = pd.DataFrame(
        {
            "s": ["x", None, None, None, "x", "x"],
            "f": [np.nan, np.nan, np.nan, 1.0, 1.0, 1.0],
        }
    )
    summary = summarize(df)
    for p in summary:
        assert all(not pd.isna(v) for v in p.pattern.values())
    # No pattern can cover the row that is NULL in both columns.
    assert summary.uncovered_rows >= 1


def test_high_cardinality_id_column_is_never_used() -> None:
    df = patient_data(20).reset_index(names="id")
    summary = summarize(df)
    assert summary and all("id" not in p.pattern for p in summary)
    # The id column still counts in D: savings are lower than without it.
    without = summarize(patient_data(20))
    assert summary[0].saving < without[0].saving


def test_all_null_column() -> None:
    df = patient_data(3).assign(empty=None, nan=np.nan)
    summary = summarize(df)
    assert summary and all({"empty", "nan"}.isdisjoint(p.pattern) for p in summary)


def test_ties_are_deterministic_and_documented_order() -> None:
    # a=x and b=y both match 10 rows with equal bits; they overlap in 4 rows.
    rows = [("x", "y")] * 4 + [("x", f"b{i}") for i in range(6)] + [(f"a{i}", "y") for i in range(6)]
    df = pd.DataFrame(rows, columns=["a", "b"])
    first = summarize(df)
    # Column order decides the expansion tie; the first-found pattern wins the marshalling tie.
    assert [p.pattern for p in first] == [{"a": "x"}, {"b": "y"}]
    assert first[0].saving > first[1].saving
    assert [p.pattern for p in summarize(df[["b", "a"]])] == [{"b": "y"}, {"a": "x"}]


def test_paper_cost_model() -> None:
    summary = summarize(patient_data(100), cost_model="paper")
    assert summary.cost_model == "paper"
    assert summary, "a 1000-row table has patterns under the paper model"
    d = 3
    for p in summary:
        bits = sum(math.ceil(math.log2({"gender": 2, "age": 3, "blood_pressure": 3}[a])) for a in p.pattern)
        n = round(p.coverage * 10)  # 1000 rows
        assert p.saving <= (n - 1) * bits - (d + 2 * math.ceil(math.log2(n + 2)))
    # Tiny tables: single values do not pay for D + log*(N) -> no pattern.
    assert list(summarize(patient_data(), cost_model="paper")) == []


def test_rejects_other_inputs() -> None:
    with pytest.raises(TypeError):
        summarize([{"a": 1}])


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="published numbers are Python 3.11 sizes")
def test_published_example_numbers() -> None:
    summary = summarize(patient_data())
    assert [p.to_dict() for p in summary] == [
        {"pattern": {"gender": "M", "age": "adult"}, "saving": 3313, "coverage": 50.0},
        {"pattern": {"age": "child", "blood_pressure": "low"}, "saving": 1684, "coverage": 30.0},
    ]

"""Cost formulas: reference sizes and log term, the paper model, overflow safety."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from realtime_platform.tsum.cost import (
    PaperCost,
    ReferenceCost,
    get_cost_model,
    paper_log_star,
    reference_bits,
    reference_log,
    reference_log_array,
)


def test_reference_bits_are_python_object_sizes() -> None:
    assert reference_bits("M") == sys.getsizeof("M") * 8
    assert reference_bits(1.5) == 24 * 8
    assert reference_bits(True) == sys.getsizeof(True) * 8
    assert reference_bits(2**62) > reference_bits(1)  # ints grow with magnitude


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="str sizes differ by Python version")
def test_reference_bits_python_311_sizes() -> None:
    # 49 + len bytes for ASCII str on Python <= 3.11 (41 + len on 3.12+).
    assert reference_bits("adult") == (49 + 5) * 8
    assert reference_bits(1) == 28 * 8


def test_reference_log_matches_math_everywhere_checked() -> None:
    n = np.arange(0, 200_000, dtype=np.int64)
    expected = np.array([math.floor(2 * math.log2(int(x) + 2)) for x in n])
    assert np.array_equal(reference_log_array(n), expected)
    # Around powers of two, where floor() is most sensitive.
    edges = np.array([2**k + d for k in range(1, 60) for d in (-3, -2, -1, 0, 1)], dtype=np.int64)
    edges = edges[edges >= 0]
    assert [int(x) for x in reference_log_array(edges)] == [reference_log(int(x)) for x in edges]


def test_paper_log_star_is_twice_ceil_log2() -> None:
    n = np.arange(0, 5000, dtype=np.int64)
    expected = [2 * math.ceil(math.log2(int(x) + 2)) for x in n]
    assert paper_log_star(n).tolist() == expected


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the published numbers are Python 3.11 sizes")
def test_reference_saving_matches_the_published_example() -> None:
    """{gender: M, age: adult} covers 5 of the 10-row patient table (D=3): the reference package's
    README gives its saving as 3313 (docs/tsum.md)."""
    w = reference_bits("M") + reference_bits("adult")
    assert ReferenceCost().saving_of(5, w, 3) == 3313


def test_paper_model_bits_and_overhead() -> None:
    cost = PaperCost()
    bits = cost.column_bits(["a", "b", "c", None], np.array([False, False, False, True]))
    assert bits.tolist() == [2, 2, 2, 2]  # ceil(log2(3)) for 3 non-NULL values
    assert cost.column_bits(["only"], np.array([False])).tolist() == [0]
    assert cost.saving_of(10, 4, 3) == 9 * 4 - (3 + 2 * math.ceil(math.log2(12)))


def test_saving_does_not_overflow() -> None:
    cost = ReferenceCost()
    n = np.array([2**40], dtype=np.int64)
    w = np.array([2**30], dtype=np.int64)
    # The vectorised path (int64 arrays) agrees with the scalar one (Python ints never overflow).
    assert int(cost.saving(n, w, 4)[0]) == cost.saving_of(2**40, 2**30, 4) > 2**69


def test_unknown_cost_model() -> None:
    with pytest.raises(ValueError):
        get_cost_model("bogus")
    assert get_cost_model("paper").name == "paper"

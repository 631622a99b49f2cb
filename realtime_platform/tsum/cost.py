"""Cost models: how many bits a pattern saves.

saving(P) = benefit(P) - overhead(P), with N = rows (of the table at hand) matching P.

reference (default) -- what `tsum` 0.1.0 computes, bit for bit:
    bits(value)  = sys.getsizeof(value, 0) * 8   (the plain Python object's size)
    benefit(P)   = (N - 1) * sum(bits(v) for v in P's values)
    overhead(P)  = D * floor(2 * log2(N + 2))     (D = number of columns)

paper -- the model of Chen et al., "TSum: Fast, Principled Table Summarization" (ADKDD 2013):
    W_i          = ceil(log2(cardinality of attribute i))   (distinct non-NULL values)
    benefit(P)   = (N - 1) * sum(W_i for i in P's attributes)
    overhead(P)  = D + log*(N),   log*(N) = 2 * ceil(log2(N + 2))

All arithmetic is on integers; arrays switch to Python ints when int64 could overflow.
"""

from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

REFERENCE = "reference"
PAPER = "paper"
COST_MODELS = (REFERENCE, PAPER)

# Products at or above this are computed with Python ints instead of int64.
_INT64_SAFE = 1 << 62


def reference_bits(value: Any) -> int:
    """Bits the reference charges for one value: the Python object's size in bits."""
    return sys.getsizeof(value, 0) * 8


def reference_log(n: int) -> int:
    """The reference's log term, floor(2*log2(n+2)), computed the way it does."""
    return math.floor(2 * math.log2(n + 2))


def reference_log_array(n: np.ndarray) -> np.ndarray:
    """Vectorised reference_log that agrees with math.log2 exactly.

    numpy's log2 may differ from libm's by an ulp, which only matters when 2*log2(n+2)
    lands next to an integer; those few entries are redone with math.log2.
    """
    n = np.asarray(n)
    if n.size == 0:
        return np.zeros(0, dtype=np.int64)
    v = 2.0 * np.log2(n.astype(np.float64) + 2.0)
    out = np.floor(v).astype(np.int64)
    for i in np.flatnonzero(np.abs(v - np.rint(v)) < 1e-9):
        out[i] = reference_log(int(n[i]))
    return out


def paper_log_star(n: np.ndarray) -> np.ndarray:
    """log*(N) = 2 * ceil(log2(N + 2)), exact via the bit length of N + 1."""
    n = np.asarray(n, dtype=np.int64)
    # ceil(log2(x)) == bit_length(x - 1) for x >= 1; frexp's exponent is that bit length.
    return 2 * np.frexp((n + 1).astype(np.float64))[1].astype(np.int64)


def _int_ceil_log2(x: int) -> int:
    return (x - 1).bit_length() if x > 0 else 0


class CostModel(ABC):
    """Bits per value and per-pattern overhead; `saving` combines them."""

    name: ClassVar[str]

    @abstractmethod
    def column_bits(self, values: Sequence[Any], missing: np.ndarray) -> np.ndarray:
        """Bits for each distinct value of one column (int64, one entry per value)."""

    @abstractmethod
    def overhead(self, n: np.ndarray, n_columns: int) -> np.ndarray:
        """Overhead of patterns matching n rows, in a table of n_columns columns."""

    def saving(self, n: np.ndarray, bits: np.ndarray | int, n_columns: int) -> np.ndarray:
        """(N - 1) * W - overhead(N), element-wise; exact for any size."""
        n = np.asarray(n, dtype=np.int64)
        w = np.asarray(bits, dtype=np.int64)
        if n.size and w.size and int(n.max()) * max(int(w.max()), 1) >= _INT64_SAFE:
            return (n.astype(object) - 1) * w.astype(object) - self.overhead(n, n_columns).astype(object)
        return (n - 1) * w - self.overhead(n, n_columns)

    def saving_of(self, n: int, bits: int, n_columns: int) -> int:
        """Scalar saving as a Python int (what results report)."""
        return int(self.saving(np.array([n]), np.array([bits]), n_columns)[0])


class ReferenceCost(CostModel):
    """tsum 0.1.0's model: Python object sizes and D * floor(2 log2(N+2)) overhead."""

    name = REFERENCE

    def column_bits(self, values: Sequence[Any], missing: np.ndarray) -> np.ndarray:
        return np.fromiter((reference_bits(v) for v in values), dtype=np.int64, count=len(values))

    def overhead(self, n: np.ndarray, n_columns: int) -> np.ndarray:
        return n_columns * reference_log_array(n)


class PaperCost(CostModel):
    """The paper's model: ceil(log2(cardinality)) bits per value, D + log*(N) overhead.

    A column with a single distinct value costs 0 bits to encode, so it never pays for
    itself in a pattern under this model.
    """

    name = PAPER

    def column_bits(self, values: Sequence[Any], missing: np.ndarray) -> np.ndarray:
        cardinality = int(np.count_nonzero(~np.asarray(missing, dtype=bool)))
        return np.full(len(values), _int_ceil_log2(cardinality), dtype=np.int64)

    def overhead(self, n: np.ndarray, n_columns: int) -> np.ndarray:
        return n_columns + paper_log_star(n)


def get_cost_model(model: str | CostModel) -> CostModel:
    """Resolve a cost model given by name ("reference" or "paper") or instance."""
    if isinstance(model, CostModel):
        return model
    if model == REFERENCE:
        return ReferenceCost()
    if model == PAPER:
        return PaperCost()
    raise ValueError(f"unknown cost model {model!r}; expected one of {COST_MODELS}")

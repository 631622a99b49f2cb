"""The greedy search of TSum on the weighted distinct-row table.

Same steps as the reference (`tsum` 0.1.0), evaluated with bincounts over distinct rows
instead of one Dask job per candidate:

local expansion:      from the empty pattern, repeatedly add the attribute=value with the
                      highest positive saving on the residual rows while the saving still
                      grows; record the pattern, drop the rows it covers, start again.
pattern marshalling:  repeatedly select, among the recorded patterns, the one with the
                      highest saving on the rows no selected pattern covers; stop when that
                      saving is not positive.

Ties (equal savings) -- the reference takes the first candidate in its iteration order:
- expansion, values of one column: Dask's unique() order, reproduced exactly
  (emulation.unique_buckets, then first appearance among the residual rows);
- expansion, different columns: set order of the column names. For str names that order
  depends on PYTHONHASHSEED; we take the table's column order. Int/float names have a
  fixed set order, which we reproduce;
- marshalling: set order of pattern objects, always seed dependent (attrs mixes a str
  hash into it); we take the pattern found first by local expansion.
Each rule picks an order the reference itself can iterate in, so the result is always one
of the reference's possible results, and the same one on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from realtime_platform.tsum import emulation
from realtime_platform.tsum.cost import CostModel, get_cost_model
from realtime_platform.tsum.distinct import distinct_rows, from_weighted
from realtime_platform.tsum.model import Pattern, Summary
from realtime_platform.tsum.table import EncodedTable, encode

# Tie breaker: (kind, number of tied options) -> index of the chosen option, where kind is
# "expand" (options: one per column, in column order) or "marshal" (options: patterns in
# order of discovery). The default takes the first; tests use it to enumerate all ties.
Choose = Callable[[str, int], int]


def _first_option(kind: str, n_options: int) -> int:
    return 0


@dataclass(frozen=True)
class _Found:
    """A pattern from local expansion: (column index, value code) pairs and its bits."""

    items: tuple[tuple[int, int], ...]
    bits: int


class _Search:
    def __init__(self, table: EncodedTable, cost: CostModel, choose: Choose | None) -> None:
        self.table = table
        self.cost = cost
        self.choose = choose or _first_option
        self.columns = table.columns
        self.n_columns = len(table.columns)
        self.counts = table.counts
        self.bits = [cost.column_bits(c.values, c.missing) for c in table.columns]
        self.names = table.names
        self.index_of = {name: i for i, name in enumerate(self.names)}

    # --- row masks over the distinct rows -------------------------------------------------

    def matches(self, items: Sequence[tuple[int, int]], rows: np.ndarray | None = None) -> np.ndarray:
        """Rows (all, or the given indices) equal to every value of the pattern."""
        size = len(self.counts) if rows is None else len(rows)
        mask = np.ones(size, dtype=bool)
        for a, code in items:
            codes = self.columns[a].codes
            mask &= (codes if rows is None else codes[rows]) == code
        return mask

    def removed_by(self, items: Sequence[tuple[int, int]]) -> np.ndarray:
        """Rows the reference's residue() drops for this pattern: matched, or NA-compared.

        `T[~cond]` drops rows where cond is NA; with pd.NA semantics an AND of
        comparisons is NA when none is False and one is NA.
        """
        mask = np.ones(len(self.counts), dtype=bool)
        for a, code in items:
            column = self.columns[a]
            hit = column.codes == code
            if column.na_rows is not None:
                hit |= column.na_rows
            mask &= hit
        return mask

    # --- local expansion --------------------------------------------------------------------

    def attribute_order(self, used: set[int]) -> list[int]:
        names = emulation.attribute_order(self.names, (self.names[a] for a in used), self.table.stable_names)
        return [self.index_of[n] for n in names]

    def first_in_unique_order(self, a: int, codes: np.ndarray, alive: np.ndarray) -> int:
        """Among tied value codes of column a, the one Dask's unique() yields first."""
        column = self.columns[a]
        idx = np.flatnonzero(alive)
        alive_codes = column.codes[idx]
        alive_first = self.table.first[idx]
        best: tuple[int, int, int] | None = None
        for code in codes:
            key = (int(column.buckets[code]), int(alive_first[alive_codes == code].min()), int(code))
            if best is None or key < best:
                best = key
        assert best is not None
        return best[2]

    def expand(self, alive: np.ndarray) -> _Found:
        """Grow one pattern greedily on the residual rows `alive`."""
        items: list[tuple[int, int]] = []
        bits = 0
        rows = alive.copy()
        n_rows = int(self.counts[alive].sum())
        # The reference gives the empty pattern benefit 0, so its saving is -overhead.
        current = -int(self.cost.overhead(np.array([n_rows]), self.n_columns)[0])
        while True:
            best: Any = 0
            options: list[tuple[int, int]] = []  # tied best candidates: (column, value code)
            weights = self.counts[rows]
            for a in self.attribute_order({c for c, _ in items}):
                column = self.columns[a]
                n = np.bincount(column.codes[rows], weights=weights, minlength=len(column.values))
                n = np.rint(n).astype(np.int64)
                n[column.missing] = 0  # NULL == value is never true
                idx = np.flatnonzero(n >= 2)  # N <= 1 never saves anything
                if idx.size == 0:
                    continue
                savings = self.cost.saving(n[idx], bits + self.bits[a][idx], self.n_columns)
                top = savings.max()
                if top <= 0 or top < best:
                    continue
                tied = idx[savings == top]
                code = int(tied[0]) if tied.size == 1 else self.first_in_unique_order(a, tied, alive)
                if top > best:
                    best, options = top, []
                options.append((a, code))
            if not options:
                break
            pick = 0
            if len(options) > 1 and not self.table.stable_names:
                pick = self.choose("expand", len(options))
            a, code = options[pick]
            if not best > current:
                break
            items.append((a, code))
            bits += int(self.bits[a][code])
            rows &= self.columns[a].codes == code
            current = best
        return _Found(tuple(items), bits)

    def local_expansion(self) -> list[_Found]:
        alive = np.ones(len(self.counts), dtype=bool)
        found: list[_Found] = []
        while alive.any():
            pattern = self.expand(alive)
            if not pattern.items:
                break
            found.append(pattern)
            alive &= ~self.removed_by(pattern.items)
        return found

    # --- pattern marshalling ----------------------------------------------------------------

    def marshal(self, found: list[_Found]) -> list[tuple[_Found, int, int]]:
        """Selected patterns in selection order: (pattern, saving, rows matched in full table)."""
        full = np.array([int(self.counts[self.matches(f.items)].sum()) for f in found], dtype=np.int64)
        current = full.copy()
        bits = np.array([f.bits for f in found], dtype=np.int64)
        remaining = list(range(len(found)))
        alive = np.ones(len(self.counts), dtype=bool)
        selected: list[tuple[_Found, int, int]] = []
        while remaining:
            savings = self.cost.saving(current[remaining], bits[remaining], self.n_columns)
            top = savings.max()
            if top <= 0:
                break  # the reference keeps looping, but nothing later can be positive
            tied = [remaining[j] for j in np.flatnonzero(savings == top)]
            pick = tied[self.choose("marshal", len(tied))] if len(tied) > 1 else tied[0]
            selected.append((found[pick], int(top), int(full[pick])))
            remaining.remove(pick)
            dropped = np.flatnonzero(alive & self.removed_by(found[pick].items))
            alive[dropped] = False
            if dropped.size and remaining:
                weights = self.counts[dropped]
                for j in remaining:
                    current[j] -= int(weights[self.matches(found[j].items, dropped)].sum())
        return selected

    # --- result -----------------------------------------------------------------------------

    def run(self) -> Summary:
        total = self.table.total_rows
        selected = self.marshal(self.local_expansion()) if self.n_columns else []
        covered = np.zeros(len(self.counts), dtype=bool)
        patterns = []
        for found, saving, n_full in selected:
            covered |= self.matches(found.items)
            values = {self.names[a]: self.columns[a].values[code] for a, code in found.items}
            patterns.append(Pattern(pattern=values, saving=saving, coverage=(n_full / total) * 100))
        # Highest saving first; sorted() is stable, so ties keep the selection order.
        patterns.sort(key=lambda p: -p.saving)
        return Summary(
            patterns=tuple(patterns),
            total_rows=total,
            distinct_rows=len(self.counts),
            uncovered_rows=int(self.counts[~covered].sum()),
            cost_model=self.cost.name,
        )


def summarize_table(table: EncodedTable, cost: str | CostModel = "reference", choose: Choose | None = None) -> Summary:
    """Run the greedy search on an already encoded table (choose: tie-breaking hook)."""
    return _Search(table, get_cost_model(cost), choose).run()


def summarize(
    data: Any,
    *,
    columns: Sequence[Any] | None = None,
    cost_model: str | CostModel = "reference",
    scheduler: str | None = None,
    npartitions: int | None = None,
) -> Summary:
    """Summarize a table by TSum patterns.

    data:        pandas DataFrame or Dask DataFrame.
    columns:     restrict to these columns (D, the column count in the cost, counts only them).
    cost_model:  "reference" (default; identical to `tsum` 0.1.0) or "paper".
    scheduler:   address of a Dask scheduler for the one pass over a Dask frame; by default
                 the current Client, if any, else Dask's default scheduler.
    npartitions: partition count whose `unique()` order decides ties between values of one
                 column. Default: the Dask frame's own, or 1 for pandas input (the
                 reference run on `dd.from_pandas(df, npartitions=1)`).
    """
    table = encode(distinct_rows(data, columns=columns, scheduler=scheduler, npartitions=npartitions))
    return summarize_table(table, cost_model)


def summarize_weighted(
    data: Any,
    *,
    weight: str = "count",
    cost_model: str | CostModel = "reference",
) -> Summary:
    """Summarize a weighted table of distinct rows, such as a `GROUP BY ... count(*)` result.

    data:    pandas DataFrame: the summarized columns plus `weight`, the number of rows each
             row stands for (whole numbers >= 0; equal rows may repeat, their weights add up).
    Returns exactly what `summarize` returns for the expanded table (each row repeated
    `weight` times) with its rows sorted by the columns' values, NULLs last: the same
    patterns, savings, coverages and uncovered share. A grouped result has no row order, so
    that sort is the tie rule here (docs/tsum.md): the input's own row order never matters.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(data).__name__}")
    return summarize_table(encode(from_weighted(data, weight)), cost_model)

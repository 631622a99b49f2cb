"""Result types: one pattern, and the summary that holds them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload


@dataclass(frozen=True)
class Pattern:
    """A set of attribute=value conditions that a group of rows shares.

    pattern:  attribute -> value, in the order the greedy search added them. Values are
              the plain Python objects a Dask/pandas column hands back when iterated
              (str, int, float, bool, ...), exactly what the reference would report.
    saving:   bits saved by encoding the rows through this pattern (cost model dependent),
              measured on the rows not yet covered when it was selected.
    coverage: percent of ALL rows of the table that match the pattern; patterns can overlap.
    """

    pattern: dict[Any, Any]
    saving: int
    coverage: float

    # dict fields are unhashable; hash the items instead so patterns can live in sets.
    def __hash__(self) -> int:
        return hash((frozenset(self.pattern.items()), self.saving, self.coverage))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, the same shape `cattrs.unstructure` gives for the reference."""
        return {"pattern": dict(self.pattern), "saving": self.saving, "coverage": self.coverage}


@dataclass(frozen=True)
class Summary(Sequence[Pattern]):
    """What `summarize` returns: a read-only sequence of patterns plus table facts.

    Iterating, indexing and len() work on the patterns, so it can be used where the
    reference's collection of patterns was. Patterns are ordered by saving, highest
    first; equal savings keep the order in which the greedy search selected them.

    uncovered_rows counts rows that match none of the returned patterns (the reference
    drops them without a word). A row with a NULL in a pattern's column does not match it.
    """

    patterns: tuple[Pattern, ...]
    total_rows: int
    distinct_rows: int
    uncovered_rows: int
    cost_model: str

    @property
    def uncovered_share(self) -> float:
        """Percent of rows no pattern covers; 0.0 for an empty table (nothing is left out)."""
        if self.total_rows == 0:
            return 0.0
        return self.uncovered_rows / self.total_rows * 100

    @overload
    def __getitem__(self, index: int) -> Pattern: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Pattern]: ...

    def __getitem__(self, index: int | slice) -> Pattern | Sequence[Pattern]:
        return self.patterns[index]

    def __len__(self) -> int:
        return len(self.patterns)

    def __iter__(self) -> Iterator[Pattern]:
        return iter(self.patterns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (values may still be numpy scalars; see io.to_jsonable)."""
        return {
            "cost_model": self.cost_model,
            "total_rows": self.total_rows,
            "distinct_rows": self.distinct_rows,
            "uncovered_rows": self.uncovered_rows,
            "uncovered_share": self.uncovered_share,
            "patterns": [p.to_dict() for p in self.patterns],
        }

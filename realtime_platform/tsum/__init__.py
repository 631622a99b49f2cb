"""TSum table summarization: a fast, exact re-implementation of `tsum` 0.1.0.

    >>> from realtime_platform.tsum import summarize
    >>> summary = summarize(df)              # pandas or Dask DataFrame
    >>> [(p.pattern, p.saving, p.coverage) for p in summary]
    >>> summary.uncovered_share             # percent of rows no pattern covers
    >>> summarize_weighted(grouped, weight="count")  # distinct rows with counts (a GROUP BY)

See docs/tsum.md for the tie rule, ordering, cost models and edge cases.
"""

from realtime_platform.tsum.cost import COST_MODELS, PAPER, REFERENCE, CostModel
from realtime_platform.tsum.engine import summarize, summarize_table, summarize_weighted
from realtime_platform.tsum.model import Pattern, Summary

__all__ = [
    "COST_MODELS",
    "PAPER",
    "REFERENCE",
    "CostModel",
    "Pattern",
    "Summary",
    "summarize",
    "summarize_table",
    "summarize_weighted",
]

"""Reading input files and writing results for the command line."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from realtime_platform.tsum.model import Summary

# Parquet inputs at least this large (or directories of files) are read through Dask,
# so they are streamed partition by partition instead of loaded whole.
DASK_PARQUET_BYTES = 64 * 1024 * 1024

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".csv.xz", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def read_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    use_dask: bool | None = None,
) -> Any:
    """Read CSV (pandas) or Parquet (pandas when small, Dask when large or a directory).

    use_dask forces the choice for Parquet; CSV is always read with pandas.
    """
    path = Path(path)
    name = path.name.lower()
    cols = list(columns) if columns else None
    if name.endswith(_CSV_SUFFIXES):
        sep = "\t" if name.endswith(".tsv") else ","
        return pd.read_csv(path, usecols=cols, sep=sep)
    if name.endswith(_PARQUET_SUFFIXES) or path.is_dir():
        if use_dask is None:
            use_dask = path.is_dir() or _size(path) >= DASK_PARQUET_BYTES
        if use_dask:
            import dask.dataframe as dd

            return dd.read_parquet(str(path), columns=cols)
        return pd.read_parquet(path, columns=cols)
    raise ValueError(f"{path}: expected a .csv or .parquet file (or a directory of Parquet files)")


def to_jsonable(value: Any) -> Any:
    """Plain JSON value for a pattern value (numpy scalars, NaN-free by construction)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def summary_json(summary: Summary) -> str:
    data = summary.to_dict()
    for p in data["patterns"]:
        p["pattern"] = {str(k): to_jsonable(v) for k, v in p["pattern"].items()}
    return json.dumps(data, indent=2)


def summary_table(summary: Summary) -> str:
    """A small aligned text table, one pattern per line, then the totals."""
    header = ("#", "saving", "coverage %", "pattern")
    rows = [
        (
            str(i),
            str(p.saving),
            f"{p.coverage:.2f}",
            ", ".join(f"{k}={to_jsonable(v)!r}" for k, v in p.pattern.items()),
        )
        for i, p in enumerate(summary, start=1)
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"rows: {summary.total_rows}  distinct: {summary.distinct_rows}  "
        f"uncovered: {summary.uncovered_share:.2f}% ({summary.uncovered_rows} rows)  "
        f"cost model: {summary.cost_model}"
    )
    return "\n".join(lines)

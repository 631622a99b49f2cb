"""TSum summaries of Trino views: read a view into Dask partitions, summarize it, and store the
patterns with the run date in `hive.summaries.<view>_patterns` (replacing that date's rows).

Pure helpers (SQL text, rows) are separate from the I/O so they can be tested without services.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class SummarySpec:
    """What to summarize: `catalog.schema.view`, its categorical columns, and a numeric column
    whose value modulo `partitions` splits the view into Dask partitions."""

    view: str
    columns: tuple[str, ...]
    partition_column: str
    partitions: int = 4

    def __post_init__(self) -> None:
        parts = self.view.split(".")
        names = [*parts, *self.columns, self.partition_column]
        if len(parts) != 3 or not all(IDENTIFIER.match(n) for n in names):
            raise ValueError(f"not plain identifiers: {self.view} {self.columns} {self.partition_column}")
        if self.partitions < 1:
            raise ValueError("partitions must be >= 1")

    @property
    def target_table(self) -> str:
        return f"hive.summaries.{self.view.split('.')[-1]}_patterns"

    def partition_query(self, index: int) -> str:
        return (f"SELECT {', '.join(self.columns)} FROM {self.view} "
                f"WHERE mod({self.partition_column}, {self.partitions}) = {index}")


def target_ddl(spec: SummarySpec, bucket: str) -> list[str]:
    return [
        f"CREATE SCHEMA IF NOT EXISTS hive.summaries WITH (location = 's3://{bucket}/summaries/')",
        f"CREATE TABLE IF NOT EXISTS {spec.target_table} (rank integer, pattern varchar, saving bigint, "
        "coverage double, uncovered_share double, total_rows bigint, run_date date) "
        "WITH (format = 'PARQUET', partitioned_by = ARRAY['run_date'])",
    ]


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        # Trino reads 26.612903225806452 as a DECIMAL, whose cast to DOUBLE may land one ulp away;
        # a DOUBLE literal of the shortest repr is the same float again.
        return f"DOUBLE '{value!r}'"
    if isinstance(value, int):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def replace_rows_sql(spec: SummarySpec, run_date: str, summary) -> list[str]:
    """Statements that make the run date's partition hold exactly this summary (idempotent)."""
    statements = [f"DELETE FROM {spec.target_table} WHERE run_date = DATE '{run_date}'"]
    rows = [
        f"({rank}, {_literal(json.dumps(p.pattern, sort_keys=True, default=str))}, {p.saving}, "
        f"{_literal(float(p.coverage))}, {_literal(float(summary.uncovered_share))}, {summary.total_rows}, "
        f"DATE '{run_date}')"
        for rank, p in enumerate(summary, start=1)
    ]
    if rows:
        statements.append(f"INSERT INTO {spec.target_table} VALUES {', '.join(rows)}")
    return statements


def summarize_view(spec: SummarySpec, run_date: str, bucket: str,
                   run_sql: Callable[[str], list[tuple]],
                   read_partition: Callable[[str, Sequence[str]], "object"]) -> dict:
    """Reads the view as Dask partitions (one Trino query each), summarizes, writes the patterns.

    run_sql(sql) runs a statement and returns its rows; read_partition(sql, columns) returns a
    pandas DataFrame. Returns a small report for the task log / XCom.
    """
    import dask
    import dask.dataframe as dd
    import pandas as pd

    from realtime_platform.tsum import summarize

    meta = pd.DataFrame({column: pd.Series(dtype="object") for column in spec.columns})
    parts = [dask.delayed(read_partition)(spec.partition_query(i), spec.columns) for i in range(spec.partitions)]
    frame = dd.from_delayed(parts, meta=meta, verify_meta=False)
    summary = summarize(frame, columns=list(spec.columns))
    for statement in target_ddl(spec, bucket) + replace_rows_sql(spec, run_date, summary):
        run_sql(statement)
    return {
        "view": spec.view,
        "rows": summary.total_rows,
        "patterns": [p.to_dict() for p in summary],
        "uncovered_share": summary.uncovered_share,
        "table": spec.target_table,
    }

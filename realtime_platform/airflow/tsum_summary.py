"""TSum summaries of Trino views, with the heavy pass done by the engines.

The one pass TSum needs -- the distinct rows of the summarized columns with their counts -- is
a `GROUP BY <columns>` with `count(*)`, run by Trino, which pushes it into Pinot for a Pinot
view. Only the grouped rows reach the task, so its time and memory follow the number of
distinct rows, not of rows. `realtime_platform.tsum.summarize_weighted` then returns exactly
what summarizing the whole view would (tie rule: docs/tsum.md).

Dask's part: the grouped pass is split into `partitions` ranges of a key column, fetched in
parallel (threads, or a cluster given `dask_scheduler`). Range predicates push down with the
`GROUP BY`, so each query stays in the engine; the ranges bound what any one query returns
(the Pinot connector refuses broker results above `pinot.max-rows-for-broker-queries`).

The patterns are stored with the run date in `hive.summaries.<view>_patterns`. Nothing is
written before the whole summary is computed, so a failed query or a bad column leaves every
stored run as it was; a write that fails half way puts the date's earlier rows back.

Pure helpers (SQL text, rows, checks) are separate from the I/O so they can be tested without
services.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
WEIGHT = "tsum_rows"  # the count(*) column of the grouped pass
# Trino types whose values TSum can compare and size (an ARRAY, MAP, ROW, JSON or VARBINARY
# cannot be grouped as a plain value). Parametrised types are matched on their base name.
SUMMARIZABLE_TYPES = frozenset({"boolean", "tinyint", "smallint", "integer", "bigint", "real", "double",
                                "decimal", "varchar", "char", "date"})
INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "bigint"})


class SummaryInputError(ValueError):
    """The view cannot be summarized as configured; the message names the view, column and SQL."""


@dataclass(frozen=True)
class SummarySpec:
    """What to summarize: `catalog.schema.view`, its categorical columns, and an integer key
    column (never NULL) whose value ranges split the grouped pass into `partitions` queries."""

    view: str
    columns: tuple[str, ...]
    partition_column: str
    partitions: int = 4

    def __post_init__(self) -> None:
        parts = self.view.split(".")
        names = [*parts, *self.columns, self.partition_column]
        if len(parts) != 3 or not all(IDENTIFIER.match(n) for n in names):
            raise ValueError(f"not plain identifiers: {self.view} {self.columns} {self.partition_column}")
        if not self.columns:
            raise ValueError("columns must name at least one column")
        if WEIGHT in self.columns:
            raise ValueError(f"{WEIGHT} is the name of the count column")
        if self.partitions < 1:
            raise ValueError("partitions must be >= 1")

    @property
    def target_table(self) -> str:
        return f"hive.summaries.{self.view.split('.')[-1]}_patterns"

    def columns_query(self) -> str:
        catalog, schema, name = self.view.split(".")
        wanted = ", ".join(f"'{c}'" for c in (*self.columns, self.partition_column))
        return (f"SELECT column_name, data_type FROM {catalog}.information_schema.columns "
                f"WHERE table_schema = '{schema}' AND table_name = '{name}' AND column_name IN ({wanted})")

    def bounds_query(self) -> str:
        return f"SELECT min({self.partition_column}), max({self.partition_column}) FROM {self.view}"

    def grouped_query(self, low: int | None = None, high: int | None = None) -> str:
        """count(*) per distinct row of the columns, for partition_column in [low, high)."""
        columns = ", ".join(self.columns)
        bounds = [f"{self.partition_column} >= {low}" if low is not None else None,
                  f"{self.partition_column} < {high}" if high is not None else None]
        where = " AND ".join(b for b in bounds if b)
        return (f"SELECT {columns}, count(*) AS {WEIGHT} FROM {self.view}"
                + (f" WHERE {where}" if where else "") + f" GROUP BY {columns}")

    def grouped_queries(self, low: int | None, high: int | None) -> list[str]:
        """The grouped pass split into `partitions` key ranges covering [low, high]; the first and
        last ranges are open so that rows arriving meanwhile are not lost between them."""
        if low is None or high is None or self.partitions == 1:
            return [self.grouped_query()]
        step = max(1, -(-(high - low + 1) // self.partitions))
        cuts = [low + i * step for i in range(1, self.partitions) if low + i * step <= high]
        edges = [None, *cuts, None]
        return [self.grouped_query(a, b) for a, b in pairwise(edges)]


def check_columns(spec: SummarySpec, described: Sequence[tuple[str, str]]) -> None:
    """Every summarized column exists with a type TSum can summarize; the key is an integer."""
    types = {name: data_type for name, data_type in described}
    sql = spec.columns_query()
    for column in (*spec.columns, spec.partition_column):
        if column not in types:
            raise SummaryInputError(f"{spec.view}: no column {column!r} (found {sorted(types)}; SQL: {sql})")
    for column in spec.columns:
        base = types[column].split("(")[0].strip().lower()
        if base not in SUMMARIZABLE_TYPES:
            raise SummaryInputError(
                f"{spec.view}: column {column!r} has type {types[column]}, which TSum cannot summarize "
                f"(supported: {', '.join(sorted(SUMMARIZABLE_TYPES))}; SQL: {sql})")
    key_type = types[spec.partition_column].split("(")[0].strip().lower()
    if key_type not in INTEGER_TYPES:
        raise SummaryInputError(f"{spec.view}: partition column {spec.partition_column!r} has type "
                                f"{types[spec.partition_column]}; an integer key is needed (SQL: {sql})")


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
    """The statements that make the run date's partition hold exactly this summary: the DELETE of
    the date (a partition drop, one commit), then one INSERT of every pattern, if any."""
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


RunSql = Callable[[Sequence[str]], list[list[tuple]]]  # statements on one connection -> rows of each


def read_grouped(spec: SummarySpec, run_sql: RunSql, dask_scheduler: str | None = None):
    """The view's distinct rows with counts (column WEIGHT), as one pandas frame, the number of
    partition queries that read them, and where they ran (the Dask workers' names, or "threads").

    The partition queries run as Dask tasks; equal rows from different partitions stay
    separate rows here (summarize_weighted adds their counts up).
    """
    import dask
    import pandas as pd

    def fetch(sql: str) -> tuple[pd.DataFrame, str]:
        try:
            [rows] = run_sql([sql])
        except Exception as error:
            raise RuntimeError(f"{spec.view}: the grouped pass failed: {error} (SQL: {sql})") from error
        frame = pd.DataFrame.from_records(rows, columns=[*spec.columns, WEIGHT])
        # astype: also when no row came back (an empty view)
        return frame.astype({WEIGHT: "int64"}), _dask_worker_name()

    [[(low, high)]] = run_sql([spec.bounds_query()])
    queries = spec.grouped_queries(low, high)
    parts = [dask.delayed(fetch)(sql) for sql in queries]
    if dask_scheduler:
        from distributed import Client

        with Client(dask_scheduler) as client:
            results = client.compute(parts, sync=True)
    else:
        results = dask.compute(*parts, scheduler="threads")
    frames, ran_on = zip(*results) if results else ((), ())
    return pd.concat(frames, ignore_index=True), len(queries), sorted(set(ran_on))


def _dask_worker_name() -> str:
    """The name of the Dask worker running the current task, or "threads" outside a cluster."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return "threads"


def replace_date(spec: SummarySpec, run_date: str, summary, run_sql: RunSql) -> None:
    """Replaces the date's stored patterns; if the INSERT fails after the DELETE, the rows read
    before are put back and the error is raised. (The Hive connector has no multi-statement
    write transaction, and its OVERWRITE of a partition loses the partition on the file
    metastore in Trino 476: docs/tsum.md.)"""
    [previous] = run_sql([f"SELECT * FROM {spec.target_table} WHERE run_date = DATE '{run_date}'"])
    delete, *insert = replace_rows_sql(spec, run_date, summary)
    run_sql([delete])
    try:
        if insert:
            run_sql(insert)
    except Exception as error:
        if previous:
            run_sql([f"INSERT INTO {spec.target_table} VALUES "
                     + ", ".join("(" + ", ".join(_stored_literal(v) for v in row) + ")" for row in previous)])
        raise RuntimeError(f"{spec.target_table}: writing the patterns of {run_date} failed; the "
                           f"{len(previous)} rows stored before were put back: {error}") from error


def _stored_literal(value) -> str:
    """A value read back from the patterns table, as a literal of its column's type."""
    import datetime

    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    return _literal(value)


def summarize_view(spec: SummarySpec, run_date: str, bucket: str, run_sql: RunSql,
                   dask_scheduler: str | None = None) -> dict:
    """Checks the view's columns, summarizes it from its grouped rows, writes the patterns.

    run_sql(statements) runs the statements in order on one connection and returns the rows of
    each. Returns a small report for the task log / XCom.
    """
    import time

    from realtime_platform.tsum import summarize_weighted

    started = time.monotonic()  # the task's own work, against what Airflow measures around it
    [described] = run_sql([spec.columns_query()])
    check_columns(spec, described)
    grouped, queries, ran_on = read_grouped(spec, run_sql, dask_scheduler)
    summary = summarize_weighted(grouped, weight=WEIGHT)
    for statement in target_ddl(spec, bucket):
        run_sql([statement])
    replace_date(spec, run_date, summary, run_sql)
    return {
        "view": spec.view,
        "rows": summary.total_rows,
        "distinct_rows": summary.distinct_rows,
        "grouped_queries": queries,
        "ran_on": ran_on,
        "patterns": [p.to_dict() for p in summary],
        "uncovered_share": summary.uncovered_share,
        "table": spec.target_table,
        "seconds": round(time.monotonic() - started, 2),
    }

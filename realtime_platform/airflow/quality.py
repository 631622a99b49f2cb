"""Data quality of the Trino views: do they hold exactly the rows of their PostgreSQL source, value
for value?

For each checked view the rows of the source table (PostgreSQL, through the `postgres_app`
connection) and of the view (Trino, through `trino_default`) are compared: rows missing from the
view, extra rows in the view, keys present more than once on either side, and rows whose values
differ in any column the view shares with the table (by name; each engine writes each value as the
same canonical text, realtime_platform/column_types.py). Each engine aggregates keys and row digests
by bucket; only the buckets that differ are fetched key by key, and a few differing keys column by
column (realtime_platform.key_buckets), so the task's time and memory do not follow the tables.
The orders view covers a window of days before the run's logical date; the same window is applied
to PostgreSQL (`created_at` is a TIMESTAMP holding UTC there, see postgres/init/101-orders.sql,
and epoch milliseconds in Pinot).

CDC is eventually consistent: a mismatch is checked again a few times before the task fails,
with the numbers, so a change still on its way through Kafka does not fail a run.

`reconcile` and `run_checks` are pure (the sides are passed in); `check_views` binds them to
Airflow's hooks, imported only when it runs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from realtime_platform import postgres_tables
from realtime_platform.column_types import is_free_text, postgres_text, trino_text
from realtime_platform.config import POSTGRES_CONN_ID, TRINO_CONN_ID
from realtime_platform.key_buckets import KeySide, SqlSide, compare

# The orders view keeps the orders created in the ORDERS_WINDOW_DAYS days before the logical date:
# [run date - ORDERS_WINDOW_DAYS, run date), in UTC. The DAG passes this number to orders.sql as a param.
ORDERS_WINDOW_DAYS = 365

Key = tuple


@dataclass(frozen=True)
class ViewCheck:
    """A view and its source table, compared on integer key columns (the first orders buckets)."""

    name: str
    source_table: str  # PostgreSQL
    target_view: str  # Trino
    key_columns: tuple[str, ...]
    source_filter: str = ""  # PostgreSQL condition; may use %(window_start)s and %(window_end)s


def view_checks() -> tuple[ViewCheck, ...]:
    """One check per stream manifest (dags/sql/views/<name>.yml; realtime_platform/streams.py)."""
    from realtime_platform.streams import streams

    return tuple(ViewCheck(s.name, s.source_table, s.view, tuple(s.key), source_filter=s.source_filter)
                 for s in streams())


@dataclass(frozen=True)
class Reconciliation:
    name: str
    source_rows: int
    target_rows: int
    missing: int  # distinct keys in the source and not in the view
    extra: int  # distinct keys in the view and not in the source
    duplicate_source: int  # rows beyond the first of their key, in the source
    duplicate_target: int  # the same in the view
    sample_missing: tuple[Key, ...] = ()
    sample_extra: tuple[Key, ...] = ()
    sample_duplicate: tuple[Key, ...] = ()
    differing: int = 0  # keys in both, whose values differ in at least one compared column
    sample_values: tuple[tuple[Key, str, str | None, str | None], ...] = ()  # key, column, postgres, trino
    columns: tuple[str, ...] = ()  # the columns whose values were compared (besides the key)
    buckets: int = 0  # key buckets compared by their aggregates
    buckets_differing: int = 0  # of those, fetched key by key
    keys_fetched: int = 0  # keys read in that drill-down, both sides
    changed_meanwhile: int = 0  # differing buckets that agreed when read again (CDC catching up)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicate_source or self.duplicate_target
                    or self.differing or self.changed_meanwhile)

    def describe(self) -> str:
        text = (f"{self.name}: postgres {self.source_rows} rows, trino {self.target_rows} rows; "
                f"{self.missing} missing, {self.extra} extra, "
                f"{self.duplicate_target} duplicate keys in trino, {self.differing} rows with other values")
        if self.duplicate_source:
            text += f", {self.duplicate_source} duplicate keys in postgres"
        for label, sample in (("missing", self.sample_missing), ("extra", self.sample_extra),
                              ("duplicate", self.sample_duplicate)):
            if sample:
                text += f"; {label} e.g. {', '.join(map(_show_key, sample))}"
        for key, column, source_value, target_value in self.sample_values:
            text += f"; key {_show_key(key)} column {column}: postgres {source_value!r}, trino {target_value!r}"
        if self.changed_meanwhile:
            text += f"; {self.changed_meanwhile} key buckets changed during the check"
        if self.buckets:
            text += (f" [{self.buckets} key buckets compared, {self.buckets_differing} differed, "
                     f"{self.keys_fetched} keys fetched]")
        return text

    def as_dict(self) -> dict:
        return {"source_rows": self.source_rows, "target_rows": self.target_rows,
                "missing": self.missing, "extra": self.extra,
                "duplicate_source": self.duplicate_source, "duplicate_target": self.duplicate_target,
                "differing": self.differing, "columns_compared": len(self.columns),
                "buckets": self.buckets, "buckets_differing": self.buckets_differing,
                "keys_fetched": self.keys_fetched, "changed_meanwhile": self.changed_meanwhile}


class DataQualityError(Exception):
    """At least one view does not reconcile with its source; the message has the numbers."""

    def __init__(self, results: Sequence[Reconciliation]):
        self.results = list(results)
        failed = [r for r in self.results if not r.ok]
        super().__init__("views do not reconcile with PostgreSQL: "
                         + " | ".join(r.describe() for r in failed))


def _show_key(key: Key) -> str:
    return str(key[0]) if len(key) == 1 else "(" + ", ".join(map(str, key)) + ")"


def _normalize(row: Iterable) -> Key:
    """A key as a tuple (clients give lists or tuples; 5 == 5.0 == Decimal(5) hash alike)."""
    return tuple(row)


def reconcile(name: str, source_keys: Iterable[Iterable], target_keys: Iterable[Iterable],
              sample: int = 5) -> Reconciliation:
    """Compares two multisets of keys (one tuple per row)."""
    source = Counter(_normalize(k) for k in source_keys)
    target = Counter(_normalize(k) for k in target_keys)
    missing = sorted(source.keys() - target.keys())
    extra = sorted(target.keys() - source.keys())
    duplicated = sorted(k for k, n in target.items() if n > 1)
    return Reconciliation(
        name=name,
        source_rows=sum(source.values()),
        target_rows=sum(target.values()),
        missing=len(missing),
        extra=len(extra),
        duplicate_source=sum(n - 1 for n in source.values() if n > 1),
        duplicate_target=sum(n - 1 for n in target.values() if n > 1),
        sample_missing=tuple(missing[:sample]),
        sample_extra=tuple(extra[:sample]),
        sample_duplicate=tuple(duplicated[:sample]),
    )


def reconcile_sides(name: str, source: KeySide, target: KeySide, sample: int = 5) -> Reconciliation:
    """Compares two sides by bucket aggregates, drilling into the buckets that differ."""
    found = compare(source, target, sample=sample)
    return Reconciliation(
        differing=found.differing, sample_values=tuple(found.sample_values),
        columns=tuple(name for name, *_ in getattr(source, "content", ())),
        name=name, source_rows=found.source_rows, target_rows=found.target_rows,
        missing=found.missing, extra=found.extra,
        duplicate_source=found.duplicate_source, duplicate_target=found.duplicate_target,
        sample_missing=tuple(found.sample_missing), sample_extra=tuple(found.sample_extra),
        sample_duplicate=tuple(found.sample_duplicate),
        buckets=found.buckets, buckets_differing=found.buckets_differing, keys_fetched=found.keys_fetched,
        changed_meanwhile=found.changed_meanwhile,
    )


def window(ds: str, days: int = ORDERS_WINDOW_DAYS) -> tuple[datetime, datetime]:
    """[ds - days, ds) as UTC datetimes: the rows of a windowed view for logical date `ds`."""
    end = datetime.combine(date.fromisoformat(ds), dtime.min, tzinfo=UTC)
    return end - timedelta(days=days), end


SideFactory = Callable[[ViewCheck, dict], KeySide]  # (check, window params) -> one side


Content = tuple[tuple[str, str, bool], ...]  # (column, SQL of its canonical text, free text)


def compared_columns(check: ViewCheck, fetch_source: Callable[[str, Mapping], list],
                     fetch_target: Callable[[str, Mapping], list]) -> tuple[Content, Content]:
    """The columns the table and the view share by name (the key apart), with each side's SQL of
    their canonical text, from the types each engine reports."""
    catalog, schema, view = check.target_view.split(".")
    view_types = dict(fetch_target(
        f"SELECT column_name, data_type FROM {catalog}.information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{view}'", {}))
    shared = [c for c in postgres_tables.columns(fetch_source, check.source_table)
              if c.name in view_types and c.name not in check.key_columns]
    return (tuple((c.name, postgres_text(c.name, c.type), is_free_text(c.type, c.enum)) for c in shared),
            tuple((c.name, trino_text(c.name, view_types[c.name]), is_free_text(c.type, c.enum)) for c in shared))


def sql_sides(fetch_source: Callable[[str, Mapping], list],
              fetch_target: Callable[[str, Mapping], list]) -> tuple[SideFactory, SideFactory]:
    """Side factories that run the bucket queries through the given PostgreSQL and Trino fetchers."""
    contents: dict[str, tuple[Content, Content]] = {}

    def content(check: ViewCheck) -> tuple[Content, Content]:
        if check.name not in contents:
            contents[check.name] = compared_columns(check, fetch_source, fetch_target)
        return contents[check.name]

    def source(check: ViewCheck, params: dict) -> KeySide:
        return SqlSide("postgres", check.source_table, check.key_columns, fetch_source,
                       where=check.source_filter, params=params, content=content(check)[0], engine="postgres")

    def target(check: ViewCheck, params: dict) -> KeySide:
        return SqlSide("trino", check.target_view, check.key_columns, fetch_target,
                       content=content(check)[1], engine="trino")

    return source, target


def run_checks(ds: str, source_side: SideFactory, target_side: SideFactory,
               checks: Sequence[ViewCheck] | None = None, attempts: int = 3, wait_s: float = 20,
               sleep: Callable[[float], None] = time.sleep,
               log: Callable[[str], None] = print) -> list[Reconciliation]:
    """Reconciles every check; re-checks the failing ones up to `attempts` times in all.

    Returns the results when all reconcile, else raises `DataQualityError` with the last numbers.
    A query that fails on one side raises `SideError` (naming the side and the SQL) at once.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    checks = view_checks() if checks is None else checks
    window_start, window_end = window(ds)
    # Naive UTC values: public.orders.created_at is a TIMESTAMP holding UTC, and a naive parameter
    # compares with it as is (an aware one would be converted through the session's time zone).
    params = {"window_start": window_start.replace(tzinfo=None),
              "window_end": window_end.replace(tzinfo=None)}
    results: dict[str, Reconciliation] = {}
    pending = list(checks)
    for attempt in range(1, attempts + 1):
        for check in pending:
            results[check.name] = reconcile_sides(check.name, source_side(check, params),
                                                  target_side(check, params))
            log(f"attempt {attempt}: {results[check.name].describe()}")
        pending = [c for c in pending if not results[c.name].ok]
        if not pending:
            return [results[c.name] for c in checks]
        if attempt < attempts:
            log(f"{', '.join(c.name for c in pending)} not reconciled; checking again in {wait_s:.0f}s "
                f"(changes may still be on their way through CDC)")
            sleep(wait_s)
    raise DataQualityError([results[c.name] for c in checks])


def check_views(run_date: str, postgres_conn_id: str = POSTGRES_CONN_ID,
                trino_conn_id: str = TRINO_CONN_ID, attempts: int = 3,
                wait_s: float = 20) -> dict[str, dict]:
    """The Airflow task: runs `run_checks` for the run date (YYYY-MM-DD) through the PostgreSQL
    and Trino hooks."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.providers.trino.hooks.trino import TrinoHook

    postgres = PostgresHook(postgres_conn_id=postgres_conn_id)
    trino = TrinoHook(trino_conn_id=trino_conn_id)
    source_side, target_side = sql_sides(
        fetch_source=lambda sql, params: postgres.get_records(sql, parameters=params or None),
        fetch_target=lambda sql, params: trino.get_records(sql),
    )
    results = run_checks(run_date, source_side, target_side, attempts=attempts, wait_s=wait_s)
    return {r.name: r.as_dict() for r in results}


def checked_views(checks: Sequence[ViewCheck] | None = None) -> list[str]:
    return [check.name for check in (view_checks() if checks is None else checks)]

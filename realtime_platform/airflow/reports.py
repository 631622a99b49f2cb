"""Versioned report tables behind stable views: which versions to drop after a refresh.

A report `hive.reports.<name>` is a view over its newest table `<name>__<run>_<try>` (see
dags/sql/views/orders_by_day.sql): a refresh writes a new table and then replaces the view, so
readers never see a report missing or half written. This module drops the versions no view reads
any more, keeping the one before the current, so a query that resolved the view just before the
swap can still finish reading it.

`plan_prune` is pure; `prune_reports` runs it through a `run_sql(sql) -> rows` function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

SEPARATOR = "__"
# The versioned tables as DataHub matches them, on `<catalog>.<schema>.<table>` (the trino_hive
# recipe's table_pattern) and on `<platform>:<name>` (the Airflow plugin's dataset_pattern): a report
# is its view; its versions come and go with every refresh and are not catalogued.
CATALOG_DENY_VERSIONS = r".*\.reports\.[a-z0-9_]+__[a-z0-9]+_[0-9]+$"
_VERSION = re.compile(r"^(?P<report>[a-z_][a-z0-9_]*?)__(?P<run>[a-z0-9]+)_(?P<try>\d+)$")
_READS = re.compile(r"\b(?:\w+\.)?(?:\w+\.)?\"?([a-z_][a-z0-9_]*__[a-z0-9]+_\d+)\"?", re.IGNORECASE)


@dataclass(frozen=True)
class PrunePlan:
    keep: tuple[str, ...]
    drop: tuple[str, ...]


def _order(table: str) -> tuple[str, int]:
    match = _VERSION.match(table)
    return (match["run"], int(match["try"])) if match else ("", 0)


def plan_prune(tables: Iterable[str], views: dict[str, str], previous_to_keep: int = 1) -> PrunePlan:
    """tables: base tables of the reports schema; views: view name -> its SQL.

    For each view, the versions `<view>__*` are the tables it may read: the one its SQL names is
    kept, and so are the `previous_to_keep` newest of the others; the rest are dropped. Tables of
    other names, and versions of a report that has no view (yet), are never touched.
    """
    keep: list[str] = []
    drop: list[str] = []
    tables = sorted(set(tables))
    for view, sql in sorted(views.items()):
        versions = sorted((t for t in tables if t.startswith(view + SEPARATOR) and _VERSION.match(t)),
                          key=_order, reverse=True)
        current = {name.lower() for name in _READS.findall(sql)} & set(versions)
        if not current:  # a view that reads no version we know: leave everything as it is
            keep.extend(versions)
            continue
        others = [t for t in versions if t not in current]
        keep.extend(sorted(current) + others[:previous_to_keep])
        drop.extend(others[previous_to_keep:])
    return PrunePlan(tuple(keep), tuple(drop))


def prune_reports(run_sql: Callable[[str], list[tuple]], catalog: str = "hive",
                  schema: str = "reports") -> dict:
    """Drops the report versions `plan_prune` gives up; returns what it kept and dropped."""
    tables = [row[0] for row in run_sql(
        f"SELECT table_name FROM {catalog}.information_schema.tables "
        f"WHERE table_schema = '{schema}' AND table_type = 'BASE TABLE'")]
    views = {name: sql for name, sql in run_sql(
        f"SELECT table_name, view_definition FROM {catalog}.information_schema.views "
        f"WHERE table_schema = '{schema}'")}
    plan = plan_prune(tables, views)
    for table in plan.drop:
        run_sql(f"DROP TABLE IF EXISTS {catalog}.{schema}.{table}")
    return {"kept": list(plan.keep), "dropped": list(plan.drop)}


def current_version(run_sql: Callable[[str], list[tuple]], report: str, catalog: str = "hive",
                    schema: str = "reports") -> str | None:
    """The version table the report's view reads now (None if there is no such view)."""
    rows = run_sql(f"SELECT view_definition FROM {catalog}.information_schema.views "
                   f"WHERE table_schema = '{schema}' AND table_name = '{report}'")
    if not rows:
        return None
    names = [n.lower() for n in _READS.findall(rows[0][0]) if n.lower().startswith(report + SEPARATOR)]
    return names[0] if names else None

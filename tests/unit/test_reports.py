"""Which report versions a refresh may drop: never the one the view reads, nor the one before it."""

from __future__ import annotations

from realtime_platform.airflow.reports import plan_prune, prune_reports

V1, V2, V3, V4 = (f"orders_by_day__2026112{d}t000000_1" for d in (4, 5, 6, 7))
VIEW_SQL = "SELECT *\nFROM\n  hive.reports.{}"


def test_keeps_the_current_and_the_previous_version_and_drops_older_ones():
    plan = plan_prune([V1, V2, V3, V4], {"orders_by_day": VIEW_SQL.format(V4)})
    assert set(plan.keep) == {V4, V3}
    assert set(plan.drop) == {V1, V2}


def test_a_newer_version_the_view_does_not_read_yet_is_kept():
    """A run that wrote its table but died before the view swap: the view still reads V2."""
    plan = plan_prune([V1, V2, V3], {"orders_by_day": VIEW_SQL.format(V2)})
    assert V2 in plan.keep and V3 in plan.keep
    assert plan.drop == (V1,)


def test_retries_of_one_run_sort_by_try_number():
    tries = [f"orders_by_day__20261127t000000_{n}" for n in (1, 2, 10)]
    plan = plan_prune(tries, {"orders_by_day": VIEW_SQL.format(tries[2])})
    assert set(plan.keep) == {tries[2], tries[1]}
    assert plan.drop == (tries[0],)


def test_other_tables_and_reports_without_a_view_are_never_dropped():
    tables = [V1, V2, V3, "orders_by_day", "manual_table", "other__20261101t000000_1",
              "other__20261102t000000_1", "other__20261103t000000_1"]
    plan = plan_prune(tables, {"orders_by_day": VIEW_SQL.format(V3)})
    assert plan.drop == (V1,)


def test_a_view_that_names_no_known_version_keeps_everything():
    plan = plan_prune([V1, V2, V3], {"orders_by_day": "SELECT 1"})
    assert plan.drop == () and set(plan.keep) == {V1, V2, V3}


def test_a_quoted_and_upper_case_reference_is_understood():
    plan = plan_prune([V1, V2, V3], {"orders_by_day": f'SELECT * FROM "hive"."reports"."{V3.upper()}"'})
    assert plan.drop == (V1,)


def test_prune_reports_reads_the_schema_and_drops_through_the_given_runner():
    executed = []

    def run_sql(sql: str) -> list[tuple]:
        executed.append(sql)
        if "information_schema.tables" in sql:
            return [(V1,), (V2,), (V3,)]
        if "information_schema.views" in sql:
            return [("orders_by_day", VIEW_SQL.format(V3))]
        return []

    result = prune_reports(run_sql)
    assert result == {"kept": [V3, V2], "dropped": [V1]}
    assert executed[-1] == f"DROP TABLE IF EXISTS hive.reports.{V1}"


def test_current_version_reads_the_views_definition():
    from realtime_platform.airflow.reports import current_version

    def run_sql(sql: str) -> list[tuple]:
        return [(VIEW_SQL.format(V3),)] if "table_name = 'orders_by_day'" in sql else []

    assert current_version(run_sql, "orders_by_day") == V3
    assert current_version(run_sql, "missing") is None

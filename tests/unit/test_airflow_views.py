"""View discovery and build order of the create_views DAG (pure functions, no Airflow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_platform.airflow.views import (VIEWS_DIR, ViewGraphError, build_order, discover,
                                             referenced_views, strip_comments)


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


def names(views) -> list[str]:
    return [v.name for v in views]


def test_references_are_found_in_any_case_and_quoting():
    sql = 'SELECT * FROM hive.views.orders o JOIN "hive"."views"."Person" p ON true, HIVE.VIEWS.x'
    assert referenced_views(sql) == {"orders", "person", "x"}


def test_references_in_comments_and_other_catalogs_are_ignored():
    sql = """-- reads hive.views.old
    /* hive.views.older
       and more */ {# hive.views.jinja #}
    SELECT * FROM myhive.views.a, hive.views_b.c, pinot.default.orders, hive.reports.orders_by_day"""
    assert referenced_views(sql) == set()
    assert "old" not in strip_comments(sql)


def test_dependencies_come_from_the_sql(tmp_path):
    write(tmp_path, {
        "orders.sql": "CREATE OR REPLACE VIEW hive.views.orders AS SELECT 1",
        "orders_by_day.sql": "CREATE TABLE hive.reports.x AS SELECT * FROM hive.views.orders",
        "person.sql": "CREATE OR REPLACE VIEW hive.views.person AS SELECT 1",
        "notes.txt": "hive.views.nothing",
    })
    views = {v.name: v for v in discover(tmp_path)}
    assert set(views) == {"orders", "orders_by_day", "person"}
    assert views["orders"].depends_on == frozenset()  # a view naming itself is no dependency
    assert views["orders_by_day"].depends_on == {"orders"}
    assert views["person"].depends_on == frozenset()


def test_build_order_puts_every_view_after_what_it_reads(tmp_path):
    write(tmp_path, {
        "a_report.sql": "SELECT * FROM hive.views.z_base JOIN hive.views.m_mid ON true",
        "m_mid.sql": "CREATE VIEW hive.views.m_mid AS SELECT * FROM hive.views.z_base",
        "z_base.sql": "CREATE VIEW hive.views.z_base AS SELECT 1",
        "b_alone.sql": "CREATE VIEW hive.views.b_alone AS SELECT 1",
    })
    order = names(build_order(discover(tmp_path)))
    assert order == ["b_alone", "z_base", "m_mid", "a_report"]


def test_a_cycle_is_an_error_naming_it(tmp_path):
    write(tmp_path, {
        "a.sql": "CREATE VIEW hive.views.a AS SELECT * FROM hive.views.b",
        "b.sql": "CREATE VIEW hive.views.b AS SELECT * FROM hive.views.c",
        "c.sql": "CREATE VIEW hive.views.c AS SELECT * FROM hive.views.a",
    })
    with pytest.raises(ViewGraphError) as error:
        build_order(discover(tmp_path))
    message = str(error.value)
    assert "cycle" in message
    assert any(f"{x} reads {y} reads {z}" in message for x, y, z in [("a", "b", "c"), ("b", "c", "a"),
                                                                     ("c", "a", "b")])


def test_reading_a_view_without_a_file_is_an_error(tmp_path):
    write(tmp_path, {"a.sql": "CREATE VIEW hive.views.a AS SELECT * FROM hive.views.ordres"})
    with pytest.raises(ViewGraphError, match="hive.views.ordres"):
        discover(tmp_path)


def test_a_file_name_that_is_no_task_id_is_an_error(tmp_path):
    write(tmp_path, {"bad name.sql": "SELECT 1"})
    with pytest.raises(ViewGraphError, match="task id"):
        discover(tmp_path)


def test_the_repository_views_build_orders_before_its_report():
    views = discover(VIEWS_DIR)
    order = names(build_order(views))
    assert {"orders", "orders_by_day"} <= set(order)
    assert order.index("orders") < order.index("orders_by_day")
    assert dict((v.name, v.depends_on) for v in views)["orders_by_day"] == {"orders"}


def test_template_path_is_relative_to_the_dag_folder():
    view = next(v for v in discover(VIEWS_DIR) if v.name == "orders")
    assert view.template_path(VIEWS_DIR.parent.parent) == "sql/views/orders.sql"

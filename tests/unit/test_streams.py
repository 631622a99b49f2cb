"""Stream manifests (dags/sql/views/<name>.yml): validated on load, and the source of the data-quality
checks, the TSum tasks and the catalog's TSum properties."""

from __future__ import annotations

import pytest

from realtime_platform.airflow.quality import view_checks
from realtime_platform.catalog.tsum import summarized_views
from realtime_platform.streams import ManifestError, streams


def test_the_repositorys_streams_drive_the_checks_and_summaries():
    assert [s.name for s in streams()] == ["orders", "person"]
    checks = {c.name: c for c in view_checks()}
    assert checks["person"].key_columns == ("id", "customer_id") and checks["person"].source_filter == ""
    assert checks["orders"].target_view == "hive.views.orders"
    assert "%(window_start)s" in checks["orders"].source_filter
    assert summarized_views() == {"hive.views.orders": "hive.summaries.orders_patterns"}


def write(folder, name, manifest, view="SELECT 1"):
    (folder / f"{name}.sql").write_text(view)
    (folder / f"{name}.yml").write_text(manifest)


def test_a_new_streams_files_add_its_check_and_summary(tmp_path):
    write(tmp_path, "shipments", "source_table: public.shipments\nkey: [shipment_id]\n"
                                 "summarize:\n  columns: [carrier, status]\n  partition_column: shipment_id\n")
    [shipments] = streams(tmp_path)
    assert shipments.view == "hive.views.shipments" and shipments.patterns_table == "hive.summaries.shipments_patterns"
    assert shipments.summarize.columns == ["carrier", "status"] and shipments.summarize.partitions == 4


def test_a_stream_added_or_removed_later_is_seen_by_the_same_process(tmp_path):
    write(tmp_path, "orders", "source_table: public.orders\nkey: [order_id]\n")
    assert [s.name for s in streams(tmp_path)] == ["orders"]
    write(tmp_path, "shipments", "source_table: public.shipments\nkey: [shipment_id]\n")
    assert [s.name for s in streams(tmp_path)] == ["orders", "shipments"]
    (tmp_path / "orders.yml").unlink()
    assert [s.name for s in streams(tmp_path)] == ["shipments"]


@pytest.mark.parametrize("manifest, message", [
    ("source_table: shipments\nkey: [id]\n", "expected schema.table"),
    ("source_table: public.shipments\nkey: []\n", "key"),
    ("source_table: public.shipments\nkey: [id]\ncolour: red\n", "colour"),
    ("source_table: public.shipments\nkey: [id]\nsummarize:\n  columns: [a b]\n  partition_column: id\n",
     "not a plain column name"),
    ("source_table: [unclosed\n", "shipments.yml"),
])
def test_a_bad_manifest_is_refused_with_its_file_named(tmp_path, manifest, message):
    write(tmp_path, "shipments", manifest)
    with pytest.raises(ManifestError, match="shipments.yml") as failure:
        streams(tmp_path)
    assert message in str(failure.value)


def test_a_manifest_needs_its_view(tmp_path):
    (tmp_path / "shipments.yml").write_text("source_table: public.shipments\nkey: [id]\n")
    with pytest.raises(ManifestError, match="no view shipments.sql beside it"):
        streams(tmp_path)

"""Invariants of the Pinot schema and table files (no services needed)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, load_json

TABLE_DIRS = sorted(p for p in (REPO / "pinot" / "tables").iterdir() if p.is_dir())


def columns(schema: dict) -> dict[str, dict]:
    specs = (schema.get("dimensionFieldSpecs", []) + schema.get("metricFieldSpecs", [])
             + schema.get("dateTimeFieldSpecs", []))
    return {spec["name"]: spec for spec in specs}


def pair(directory):
    (schema,) = directory.glob("*_schema.json")
    (table,) = directory.glob("*_table.json")
    return load_json(schema), load_json(table)


@pytest.mark.parametrize("directory", TABLE_DIRS, ids=lambda p: p.name)
class TestPinotTable:
    def test_primary_key_columns_are_in_the_schema(self, directory):
        schema, _ = pair(directory)
        assert schema["primaryKeyColumns"]
        assert set(schema["primaryKeyColumns"]) <= set(columns(schema))

    def test_upsert_needs_strict_replica_group_routing(self, directory):
        _, table = pair(directory)
        assert table["tableType"] == "REALTIME"
        assert table["upsertConfig"]["mode"] == "FULL"
        assert table["routing"]["instanceSelectorType"] == "strictReplicaGroup"

    def test_a_composite_key_is_kept_as_its_hash(self, directory):
        """Pinot 0.11 holds every key ever seen on the heap: a composite key as its MD5 takes 56
        bytes instead of ~82-88 (benchmarks/upsert_key_size.py); one number stays as it is."""
        from realtime_platform.stream_files import upsert_key_hash

        schema, table = pair(directory)
        expected = "MD5" if len(schema["primaryKeyColumns"]) > 1 else "NONE"
        assert table["upsertConfig"]["hashFunction"] == expected == upsert_key_hash(schema["primaryKeyColumns"])

    def test_comparison_and_delete_columns_exist(self, directory):
        schema, table = pair(directory)
        cols = columns(schema)
        assert table["upsertConfig"]["comparisonColumn"] in cols
        assert "deleted" in cols, "the soft-delete column the views filter on"

    def test_every_transform_writes_a_schema_column(self, directory):
        schema, table = pair(directory)
        cols = columns(schema)
        for transform in table["ingestionConfig"]["transformConfigs"]:
            assert transform["columnName"] in cols
            assert "groovy" not in transform["transformFunction"].lower(), "Groovy runs arbitrary code"

    def test_key_columns_fall_back_to_before_for_deletes(self, directory):
        schema, table = pair(directory)
        transforms = {t["columnName"]: t["transformFunction"] for t in table["ingestionConfig"]["transformConfigs"]}
        for key in schema["primaryKeyColumns"]:
            assert "$.after." in transforms[key] and "$.before." in transforms[key], \
                f"{key} must come from `after`, or from `before` when a delete leaves `after` null"

    def test_consumes_kafka_through_the_bootstrap_placeholder(self, directory):
        _, table = pair(directory)
        stream = table["tableIndexConfig"]["streamConfigs"]
        assert stream["streamType"] == "kafka"
        assert stream["stream.kafka.broker.list"] == "${PINOT_KAFKA_BROKERS}"

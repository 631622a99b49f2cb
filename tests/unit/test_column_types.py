"""The type mapping (realtime_platform/column_types.py): what each PostgreSQL type becomes, what is
refused, and that every stream's files follow it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_platform.column_types import (CONNECTOR_SETTINGS, STRING_MAX_LENGTH, STRING_NULL, PostgresColumn,
                                            UnsupportedColumn, carriage, row_digest_value)
from realtime_platform.config import REPO_ROOT
from realtime_platform.stream_config import load_connector
from realtime_platform.stream_files import dump_schema, pinot_schema, transforms, view_sql

FIXTURES = REPO_ROOT / "tests" / "live" / "fixtures"
CONNECTORS = sorted([*(REPO_ROOT / "debezium").glob("*.json"), *FIXTURES.glob("*/debezium/*.json")])


# The fixture's columns as PostgreSQL's format_type() reports them (postgres_tables.columns, which
# tests/live/test_value_fidelity.py reads from the live table).
ALL_TYPES_COLUMNS = [
    ("id", "bigint", False), ("small_n", "smallint", False), ("int_n", "integer", True), ("big_n", "bigint", True),
    ("real_n", "real", True), ("double_n", "double precision", True), ("amount", "numeric(18,4)", True),
    ("wide_amount", "numeric(38,10)", True), ("flag", "boolean", True), ("label", "text", False),
    ("region", "text", True), ("mood", "all_types_mood", True), ("uid", "uuid", True), ("doc", "jsonb", True),
    ("raw_doc", "json", True), ("blob", "bytea", True), ("born_on", "date", True),
    ("wakes_at", "time without time zone", True), ("seen_at", "timestamp without time zone", True),
    ("seen_at_ms", "timestamp(3) without time zone", True), ("seen_at_tz", "timestamp with time zone", True),
    ("big_text", "text", True),
]


@pytest.mark.parametrize("path", CONNECTORS, ids=lambda p: p.name)
def test_every_connector_sends_values_exactly(path: Path):
    config = load_connector(path).config
    wrong = {key: config.get(key) for key, value in CONNECTOR_SETTINGS.items() if config.get(key) != value}
    assert not wrong, f"{path}: {wrong} (expected {CONNECTOR_SETTINGS})"


@pytest.mark.parametrize("pg_type, trino_type", [
    ("numeric(18,4)", "decimal(18,4)"), ("numeric(38,10)", "decimal(38,10)"), ("numeric", "varchar"),
    ("timestamp without time zone", "timestamp(6)"), ("timestamp(3) without time zone", "timestamp(3)"),
    ("timestamp with time zone", "timestamp(6) with time zone"), ("time without time zone", "time(6)"),
    ("date", "date"), ("uuid", "uuid"), ("jsonb", "varchar"), ("bytea", "varbinary"), ("boolean", "boolean"),
    ("smallint", "smallint"), ("real", "real"), ("double precision", "double"), ("character varying(20)", "varchar"),
])
def test_each_type_has_its_natural_trino_type(pg_type, trino_type):
    assert carriage(PostgresColumn("c", pg_type)).trino_type == trino_type


def test_a_nullable_column_stores_a_sentinel_that_the_view_turns_back_into_null():
    text = carriage(PostgresColumn("note", "text", nullable=True))
    assert text.pinot_field() == {"name": "note", "dataType": "STRING", "maxLength": STRING_MAX_LENGTH,
                                  "defaultNullValue": STRING_NULL}
    assert text.view == "NULLIF(note, U&'\\FFFF') AS note"
    # jsonPathString would store the text 'null' for a NULL; jsonPath gives null, so Pinot writes the sentinel.
    assert text.transform == "jsonPath(payload, '$.after.note')"
    required = carriage(PostgresColumn("note", "text", nullable=False))
    assert "defaultNullValue" not in required.pinot_field() and required.view == "note"


@pytest.mark.parametrize("column, reason", [
    (PostgresColumn("tags", "text[]"), "arrays lose their NULL and empty elements"),
    (PostgresColumn("big", "numeric(40,2)"), "at most 38 digits"),
    (PostgresColumn("spot", "point"), "'point' is not carried exactly"),
    (PostgresColumn("lsn", "bigint"), "taken by the platform's own columns"),
])
def test_a_type_that_cannot_arrive_exactly_is_refused_naming_column_and_type(column, reason):
    with pytest.raises(UnsupportedColumn, match=reason) as refused:
        carriage(column)
    assert repr(column.name) in str(refused.value)


def test_the_reference_stream_is_what_the_mapping_generates():
    """tests/live/fixtures/all_types: its schema, transforms and view come from column_types, so the
    live test of that stream tests the mapping itself."""
    folder = FIXTURES / "all_types"
    columns = [PostgresColumn(name, pg_type, nullable, enum=pg_type == "all_types_mood")
               for name, pg_type, nullable in ALL_TYPES_COLUMNS]
    assert dump_schema(pinot_schema("all_types", columns, ["id"])) == \
        (folder / "pinot/tables/004-all_types/all_types_schema.json").read_text()
    table = json.loads((folder / "pinot/tables/004-all_types/all_types_table.json").read_text())
    assert table["ingestionConfig"]["transformConfigs"] == transforms(columns, ["id"])
    assert view_sql("all_types", "public.all_types", columns, ["id"]) == \
        (folder / "dags/sql/views/all_types.sql").read_text()


def test_the_python_row_digest_is_the_sql_one():
    """The SQL takes the first 8 bytes of md5('3:abc|-') as a signed bigint; the prefix counts UTF-8 bytes."""
    import hashlib
    digest = hashlib.md5(b"3:abc|-").digest()  # noqa: S324
    assert row_digest_value(["abc", None]) == int.from_bytes(digest[:8], "big", signed=True)
    assert row_digest_value(["é"]) == int.from_bytes(hashlib.md5("2:é".encode()).digest()[:8], "big", signed=True)  # noqa: S324

"""A stream's Pinot schema, ingestion transforms and view, derived from its source table's columns.

Every column follows `column_types.carriage`, so the files agree with the type mapping by
construction. The platform's own columns come from the change event itself: `op`, `deleted` (the
last change was a delete; Pinot 0.11 upsert tables only soft-delete), `lsn` (the upsert's
comparison column: later changes win) and `ts_ms` (the table's time column).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from realtime_platform.column_types import Carriage, PostgresColumn, carriage

_KEY_TYPES = {"smallint": "INT", "integer": "INT", "bigint": "LONG"}


def carriages(columns: Sequence[PostgresColumn]) -> list[Carriage]:
    return [carriage(c) for c in columns]


def _key_transform(column: PostgresColumn) -> str:
    # A delete has no `after`: the key comes from `before`. A message with neither (not a change
    # event) gets -1, which the table's filter drops, instead of a transform error.
    field = column.name
    return f"jsonPathLong(payload, '$.after.{field}', jsonPathLong(payload, '$.before.{field}', -1))"


def pinot_schema(name: str, columns: Sequence[PostgresColumn], key: Sequence[str]) -> dict:
    by_name = {c.name: c for c in columns}
    fields = []
    for c in columns:
        if c.name in key:
            if c.type not in _KEY_TYPES:
                raise ValueError(f"key column {c.name!r} is {c.type}: keys must be integers")
            fields.append({"name": c.name, "dataType": _KEY_TYPES[c.type]})
        else:
            fields.append(carriage(c).pinot_field())
    missing = [k for k in key if k not in by_name]
    if missing:
        raise ValueError(f"key columns {missing} are not columns of the table")
    fields += [{"name": "op", "dataType": "STRING"}, {"name": "deleted", "dataType": "BOOLEAN"},
               {"name": "lsn", "dataType": "LONG"}]
    return {
        "schemaName": name,
        "primaryKeyColumns": list(key),
        "dimensionFieldSpecs": fields,
        "dateTimeFieldSpecs": [{"name": "ts_ms", "dataType": "LONG", "format": "1:MILLISECONDS:EPOCH",
                                "granularity": "1:MILLISECONDS"}],
    }


def transforms(columns: Sequence[PostgresColumn], key: Sequence[str]) -> list[dict]:
    out = [{"columnName": c.name,
            "transformFunction": _key_transform(c) if c.name in key else carriage(c).transform}
           for c in columns]
    return out + [
        {"columnName": "op", "transformFunction": "jsonPathString(payload, '$.op', '')"},
        {"columnName": "deleted", "transformFunction": "strcmp(jsonPathString(payload, '$.op', ''), 'd') = 0"},
        {"columnName": "lsn", "transformFunction": "jsonPathLong(payload, '$.source.lsn', 0)"},
        {"columnName": "ts_ms", "transformFunction": "jsonPathLong(payload, '$.ts_ms', 0)"},
    ]


def view_sql(name: str, source_table: str, columns: Sequence[PostgresColumn], key: Sequence[str]) -> str:
    lines = [c.name if c.name in key else carriage(c).view for c in columns]
    select = ",\n    ".join(lines)
    return (f"-- Current state of {source_table} from Pinot's upsert table; deleted rows left out.\n"
            f"-- Each column's expression: realtime_platform/column_types.py.\n"
            f"CREATE OR REPLACE VIEW hive.views.{name} AS\nSELECT\n    {select}\n"
            f"FROM pinot.default.{name}\nWHERE NOT deleted\n")


def dump_schema(schema: dict) -> str:
    """A Pinot schema as JSON with one line per field, as the repository's schema files are written."""
    lines = ["{"]
    items = list(schema.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            fields = ",\n".join(f"    {json.dumps(f)}" for f in value)
            lines.append(f"  {json.dumps(key)}: [\n{fields}\n  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    return "\n".join(lines) + "\n}\n"

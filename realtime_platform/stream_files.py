"""A stream's Pinot schema, ingestion transforms and view, derived from its source table's columns.

Every column follows `column_types.carriage`, so the files agree with the type mapping by
construction. The platform's own columns come from the change event itself: `op`, `deleted` (the
last change was a delete; Pinot 0.11 upsert tables only soft-delete), `lsn` (the upsert's
comparison column: later changes win) and `ts_ms` (the table's time column).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from realtime_platform.column_types import (
    Carriage,
    PostgresColumn,
    UnsupportedColumn,
    carriage,
)
from realtime_platform.layout import views_folder

_KEY_TYPES = {"smallint": "INT", "integer": "INT", "bigint": "LONG"}


# The upsert's comparison column: the second entry of the event's source.sequence, ["last committed
# LSN", "LSN"]. For a streamed change and the initial snapshot it is the change's LSN (source.lsn); an
# incremental snapshot's read event has no source.lsn, but its sequence holds the LSN the stream had
# reached when the row was read: later than the row's earlier changes, earlier than its later ones.
LSN_TRANSFORM = "jsonPathLong(jsonPathString(payload, '$.source.sequence', '[null,\"0\"]'), '$[1]', 0)"


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
    return [
        *out,
        {"columnName": "op", "transformFunction": "jsonPathString(payload, '$.op', '')"},
        {"columnName": "deleted", "transformFunction": "strcmp(jsonPathString(payload, '$.op', ''), 'd') = 0"},
        {"columnName": "lsn", "transformFunction": LSN_TRANSFORM},
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


def dump_json(value, indent: int = 0, width: int = 110, prefix: int = 0) -> str:
    """JSON as people write it: an object or list on one line when it fits, else one entry per line
    (a table config's transforms then read one column per line). `prefix`: the line's text before
    the value (its key)."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or indent + prefix + len(flat) <= width:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dump_json(v, indent + 2, width, len(json.dumps(k)) + 2)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(pad + dump_json(v, indent + 2, width) for v in value) + "\n" + " " * indent + "]"


# --- Every file of a new stream (platformctl stream add) ---------------------------------------------
PARTITIONS = 4  # the shared connector's topic.creation.default.partitions


def filter_function(key: Sequence[str]) -> str:
    """Drops what is no change event of the table (its key transform gives -1)."""
    return f"{_key_transform(PostgresColumn(key[0], 'bigint', False))} = -1"


def upsert_key_hash(key: Sequence[str]) -> str:
    """How Pinot keeps each primary key in its upsert map, on the heap for every key ever seen
    (benchmarks/upsert_key_size.py, bytes per key object): a two-number key is ~82-88 bytes as it is
    (NONE) and 56 as its MD5; one number is 64 against 56, which is not worth hashing every change."""
    return "MD5" if len(key) > 1 else "NONE"


def table_config(name: str, key: Sequence[str], columns: Sequence[PostgresColumn]) -> dict:
    """A realtime upsert table on topic `name`: partitioned like its topic when the key is one column
    (the connector then keys the topic's records by it), in one replica group per copy."""
    index: dict = {
        "loadMode": "MMAP",
        "streamConfigs": {
            "streamType": "kafka",
            "stream.kafka.topic.name": name,
            "stream.kafka.broker.list": "${PINOT_KAFKA_BROKERS}",
            "stream.kafka.consumer.type": "lowlevel",
            "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
            "stream.kafka.consumer.factory.class.name": "org.apache.pinot.plugin.stream.kafka20.KafkaConsumerFactory",
            "stream.kafka.decoder.class.name": "org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder",
            "realtime.segment.flush.threshold.rows": "0",
            "realtime.segment.flush.threshold.time": "6h",
            "realtime.segment.flush.threshold.segment.size": "50M",
        },
    }
    routing: dict = {"instanceSelectorType": "strictReplicaGroup"}
    if len(key) == 1:
        index["segmentPartitionConfig"] = {"columnPartitionMap": {
            key[0]: {"functionName": "Murmur", "numPartitions": PARTITIONS}}}
        routing["segmentPrunerTypes"] = ["partition"]
    return {
        "tableName": name,
        "tableType": "REALTIME",
        "segmentsConfig": {"schemaName": name, "timeColumnName": "ts_ms", "timeType": "MILLISECONDS",
                           "replicasPerPartition": "1"},
        "tenants": {},
        "tableIndexConfig": index,
        "ingestionConfig": {"filterConfig": {"filterFunction": filter_function(key)},
                            "transformConfigs": transforms(columns, key)},
        "routing": routing,
        "instanceAssignmentConfigMap": {"CONSUMING": {
            "tagPoolConfig": {"tag": "DefaultTenant_REALTIME"},
            "replicaGroupPartitionConfig": {"replicaGroupBased": True, "numReplicaGroups": 1,
                                            "numInstancesPerReplicaGroup": 1}}},
        "upsertConfig": {"mode": "FULL", "comparisonColumn": "lsn", "hashFunction": upsert_key_hash(key)},
        "metadata": {},
    }


def connector(name: str, source_table: str, key: Sequence[str]) -> dict:
    """The stream's own connector keys, over debezium/shared/postgres.json."""
    schema, table = source_table.split(".")
    config = {
        "topic.prefix": f"{name}_source",
        "table.include.list": f"{schema}\\.{table}",
        "message.key.columns": f"{source_table}:{','.join(key)}",
        "slot.name": f"debezium_{name}",
        "publication.name": f"dbz_{name}",
    }
    if len(key) == 1:  # records keyed by the key's plain text: Kafka's partition is Pinot's Murmur partition
        config.update({
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "transforms": "route,key,payload",
            "transforms.key.type": "org.apache.kafka.connect.transforms.ExtractField$Key",
            "transforms.key.field": key[0],
            "transforms.key.predicate": "tableTopic",
            "predicates": "tableTopic",
            "predicates.tableTopic.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "predicates.tableTopic.pattern": name,
        })
    return {"name": name, "config": config}


def capture_sql(source_table: str, create_table: str, publication: str) -> str:
    return (f"-- Source table of the {source_table.split('.')[1]} stream, as it was when `platformctl stream add` "
            f"read it;\n-- then Debezium's read access and the stream's publication.\n{create_table}\n"
            f"\\set source_table {source_table}\n\\set publication {publication}\n\\ir lib/cdc-source.psql\n")


def manifest_yml(name: str, source_table: str, key: Sequence[str]) -> str:
    return (f"# The {name} stream (realtime_platform/streams.py), written by `platformctl stream add`.\n"
            f"source_table: {source_table}\nkey: [{', '.join(key)}]\n")


def _next_number(folder: Path, pattern: str, floor: int) -> int:
    numbers = [int(m[1]) for p in folder.glob("*") if (m := re.match(pattern, p.name))]
    return max([floor, *numbers]) + 1


def stream_files(repo: Path, name: str, source_table: str, columns: Sequence[PostgresColumn],
                 key: Sequence[str], create_table: str) -> dict[Path, str]:
    """Every file of the stream, by path relative to `repo`. Raises UnsupportedColumn (every column that
    cannot be carried, named with its type) or ValueError (no usable key)."""
    if not key:
        raise ValueError(f"{source_table} has no primary key: an upsert table needs one (ALTER TABLE "
                         f"{source_table} ADD PRIMARY KEY (...))")
    refused = []
    for column in columns:
        if column.name not in key:
            try:
                carriage(column)
            except UnsupportedColumn as error:
                refused.append(str(error))
    if refused:
        raise UnsupportedColumn(f"{source_table} cannot be carried exactly:\n  " + "\n  ".join(refused))
    schema = pinot_schema(name, columns, key)
    connector_file = connector(name, source_table, key)
    init = _next_number(repo / "postgres" / "init", r"(1\d\d)-", 100)
    tables = _next_number(repo / "pinot" / "tables", r"(\d{3})-", 0)
    return {
        Path("postgres/init") / f"{init:03d}-{name}.sql":
            capture_sql(source_table, create_table, connector_file["config"]["publication.name"]),
        Path("debezium") / f"{name}.json": json.dumps(connector_file, indent=2) + "\n",
        Path("pinot/tables") / f"{tables:03d}-{name}" / f"{name}_schema.json": dump_schema(schema),
        Path("pinot/tables") / f"{tables:03d}-{name}" / f"{name}_table.json":
            dump_json(table_config(name, key, columns)) + "\n",
        views_folder(Path()) / f"{name}.sql": view_sql(name, source_table, columns, key),
        views_folder(Path()) / f"{name}.yml": manifest_yml(name, source_table, key),
    }


# --- A stream following its table (platformctl stream sync) ------------------------------------------
GENERATED_VIEW = "-- Current state of "  # the first line view_sql writes
GENERATED_INIT = "as it was when `platformctl stream add` read it"  # in the header capture_sql writes


@dataclass
class SyncPlan:
    """What `stream sync` changes in a stream's files after its table changed."""

    added: list[PostgresColumn] = field(default_factory=list)  # new columns: Pinot field, transform, view
    dropped: list[str] = field(default_factory=list)  # gone from the table: out of the view; Pinot keeps them
    refused: list[str] = field(default_factory=list)  # what cannot follow, with what to do

    @property
    def changes(self) -> bool:
        return bool(self.added or self.dropped)


def plan_sync(name: str, schema: dict, table: dict, columns: Sequence[PostgresColumn], key: Sequence[str],
              manifest_columns: Sequence[str] = ()) -> SyncPlan:
    """Compares the stream's Pinot schema and table with the table's columns now. A column whose Pinot
    field would differ from the one it has is refused: Pinot 0.11 cannot change a field's type or
    default (its schema check refuses it as backward incompatible)."""
    plan = SyncPlan()
    fields = {f["name"]: f for kind in ("dimensionFieldSpecs", "metricFieldSpecs", "dateTimeFieldSpecs")
              for f in schema.get(kind, [])}
    reads = {}  # Pinot column -> the source column its transform reads
    for spec in table.get("ingestionConfig", {}).get("transformConfigs", []):
        match = re.search(r"'\$\.after\.(\w+)'", spec["transformFunction"])
        if match:
            reads[spec["columnName"]] = match[1]
    live = {c.name for c in columns}
    for column in columns:
        if column.name in key:
            continue
        try:
            want = carriage(column).pinot_field()
        except UnsupportedColumn as error:
            plan.refused.append(f"{error}: drop or change it, or leave it out of the stream by hand")
            continue
        have = fields.get(column.name)
        if have is None:
            plan.added.append(column)
        elif {k: have.get(k) for k in ("dataType", "defaultNullValue")} != \
                {k: want.get(k) for k in ("dataType", "defaultNullValue")}:
            plan.refused.append(
                f"column {column.name} ({column.type}{'' if column.nullable else ', NOT NULL'}) now needs Pinot "
                f"{want['dataType']} (NULL as {want.get('defaultNullValue', 'none')}), but the table has "
                f"{have['dataType']} (NULL as {have.get('defaultNullValue', 'none')}): Pinot 0.11 cannot change "
                f"a column's type or default; re-create the stream (platformctl stream remove {name}, then add)")
    for pinot_column, source_column in reads.items():
        if source_column not in live:
            if source_column in key or source_column in manifest_columns:
                plan.refused.append(f"column {source_column} was dropped from the table, but the stream's key "
                                    f"or manifest (summarize, source_filter) names it: change those first")
            else:
                plan.dropped.append(pinot_column)
    return plan


def synced_schema(schema: dict, plan: SyncPlan) -> dict:
    out = json.loads(json.dumps(schema))
    dimensions = out.setdefault("dimensionFieldSpecs", [])
    platform = [i for i, f in enumerate(dimensions) if f["name"] in ("op", "deleted", "lsn")]
    at = platform[0] if platform else len(dimensions)  # before the platform's own columns
    dimensions[at:at] = [carriage(c).pinot_field() for c in plan.added]
    return out


def synced_table(table: dict, plan: SyncPlan) -> dict:
    out = json.loads(json.dumps(table))
    transforms_ = out["ingestionConfig"]["transformConfigs"]
    platform = [i for i, t in enumerate(transforms_) if t["columnName"] in ("op", "deleted", "lsn", "ts_ms")]
    at = platform[0] if platform else len(transforms_)
    transforms_[at:at] = [{"columnName": c.name, "transformFunction": carriage(c).transform} for c in plan.added]
    return out

"""The CDC path as catalog entities, read from the files it runs from.

Each Pinot table of pinot/tables/ becomes a dataset of DataHub's `pinot` platform (its schema,
primary key and upsert mode), with the Kafka topic it consumes as upstream, and the PostgreSQL table
that Debezium captures into that topic (debezium/*.json) upstream of the topic. The Trino table over
it (`pinot.default.<table>`, from the trino_pinot recipe) becomes its sibling and reads from it:
what `catalog_to_connector_details` does for hive → glue, which DataHub 1.7 cannot do for Pinot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from realtime_platform import stream_config
from realtime_platform.config import REPO_ROOT

PINOT_TABLES_DIR = REPO_ROOT / "pinot" / "tables"
DEBEZIUM_DIR = REPO_ROOT / "debezium"
TRINO_PINOT_SCHEMA = "pinot.default"


@dataclass(frozen=True)
class StreamTable:
    """One Pinot table and where its rows come from."""

    name: str
    topic: str
    source_table: str | None  # "<schema>.<table>" in PostgreSQL, when a connector writes the topic
    schema: dict
    table_config: dict

    @property
    def primary_key(self) -> list[str]:
        return self.schema.get("primaryKeyColumns", [])

    @property
    def upsert_mode(self) -> str | None:
        return (self.table_config.get("upsertConfig") or {}).get("mode")


def debezium_topics(debezium_dir: Path = DEBEZIUM_DIR) -> dict[str, str]:
    """Kafka topic -> the PostgreSQL table ("schema.table") a Debezium connector writes into it."""
    return {topic: table for path in sorted(debezium_dir.glob("*.json"))
            for topic, table in stream_config.load_connector(path).topics().items()}


def stream_tables(pinot_dir: Path = PINOT_TABLES_DIR, debezium_dir: Path = DEBEZIUM_DIR) -> list[StreamTable]:
    streams = stream_config.load(debezium_dir, pinot_dir).require_valid()
    return [StreamTable(s.name, s.table.topic, s.source_table, s.schema.model_dump(exclude_unset=True),
                        s.table.model_dump(exclude_unset=True)) for s in streams.streams]


def _field_type(spec: dict, kind: str):
    from datahub.metadata.schema_classes import (
        BooleanTypeClass,
        BytesTypeClass,
        NumberTypeClass,
        SchemaFieldDataTypeClass,
        StringTypeClass,
        TimeTypeClass,
    )

    if kind == "dateTimeFieldSpecs":
        return SchemaFieldDataTypeClass(type=TimeTypeClass())
    data_type = spec["dataType"]
    if data_type in ("INT", "LONG", "FLOAT", "DOUBLE", "BIG_DECIMAL"):
        return SchemaFieldDataTypeClass(type=NumberTypeClass())
    if data_type == "BOOLEAN":
        return SchemaFieldDataTypeClass(type=BooleanTypeClass())
    if data_type == "BYTES":
        return SchemaFieldDataTypeClass(type=BytesTypeClass())
    return SchemaFieldDataTypeClass(type=StringTypeClass())  # STRING, JSON, TIMESTAMP as text


def mcps(tables: list[StreamTable], postgres_db: str, env: str = "PROD") -> list:
    from datahub.emitter.mce_builder import make_data_platform_urn, make_dataset_urn
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as Mcp
    from datahub.metadata.schema_classes import (
        DatasetLineageTypeClass,
        DatasetPropertiesClass,
        OtherSchemaClass,
        SchemaFieldClass,
        SchemaMetadataClass,
        SiblingsClass,
        StatusClass,
        UpstreamClass,
        UpstreamLineageClass,
    )

    def upstream(urn: str, kind: str) -> UpstreamLineageClass:
        return UpstreamLineageClass(upstreams=[UpstreamClass(dataset=urn, type=kind)])

    out = []
    for table in tables:
        pinot = make_dataset_urn("pinot", table.name, env)
        trino = make_dataset_urn("trino", f"{TRINO_PINOT_SCHEMA}.{table.name}", env)
        topic = make_dataset_urn("kafka", table.topic, env)
        fields = [
            SchemaFieldClass(fieldPath=spec["name"], nativeDataType=spec["dataType"],
                             type=_field_type(spec, kind), isPartOfKey=spec["name"] in table.primary_key)
            for kind in ("dimensionFieldSpecs", "metricFieldSpecs", "dateTimeFieldSpecs")
            for spec in table.schema.get(kind, [])
        ]
        properties = {"tableType": table.table_config.get("tableType", ""),
                      "primaryKeyColumns": ",".join(table.primary_key), "topic": table.topic}
        if table.upsert_mode:
            properties["upsertMode"] = table.upsert_mode
        out += [
            Mcp(entityUrn=pinot, aspect=StatusClass(removed=False)),
            Mcp(entityUrn=pinot, aspect=DatasetPropertiesClass(
                name=table.name, customProperties=properties,
                description=f"Pinot {properties['tableType'].lower()} table fed by the Kafka topic "
                            f"`{table.topic}`" + (f", an {table.upsert_mode} upsert on "
                                                  f"{', '.join(table.primary_key)}" if table.upsert_mode else ""))),
            Mcp(entityUrn=pinot, aspect=SchemaMetadataClass(
                schemaName=table.name, platform=make_data_platform_urn("pinot"), version=0, hash="",
                platformSchema=OtherSchemaClass(rawSchema=json.dumps(table.schema)), fields=fields,
                primaryKeys=table.primary_key)),
            Mcp(entityUrn=pinot, aspect=upstream(topic, DatasetLineageTypeClass.COPY)),
            # as the trino source links hive tables and their glue siblings (trino primary)
            Mcp(entityUrn=pinot, aspect=SiblingsClass(siblings=[trino], primary=False)),
            Mcp(entityUrn=trino, aspect=SiblingsClass(siblings=[pinot], primary=True)),
            Mcp(entityUrn=trino, aspect=upstream(pinot, DatasetLineageTypeClass.VIEW)),
            Mcp(entityUrn=topic, aspect=StatusClass(removed=False)),
        ]
        if table.source_table:
            source = make_dataset_urn("postgres", f"{postgres_db}.{table.source_table}", env)
            out += [
                Mcp(entityUrn=topic, aspect=DatasetPropertiesClass(
                    name=table.topic, description=f"Debezium change events of PostgreSQL "
                                                  f"`{postgres_db}.{table.source_table}`")),
                Mcp(entityUrn=topic, aspect=upstream(source, DatasetLineageTypeClass.TRANSFORMED)),
                Mcp(entityUrn=source, aspect=StatusClass(removed=False)),
                Mcp(entityUrn=source, aspect=DatasetPropertiesClass(
                    name=table.source_table.split(".")[-1], qualifiedName=f"{postgres_db}.{table.source_table}",
                    description="Source table, captured by Debezium (pgoutput)")),
            ]
    return out


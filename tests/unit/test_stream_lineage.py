"""The Pinot tables as catalog entities, derived from pinot/tables/ and debezium/: the topic each
table consumes, the Postgres table Debezium writes into it (RegexRouter applied), schema and
siblings."""

from __future__ import annotations

import json

import pytest

import datahub  # noqa: E402,F401 - a required dependency: missing fails, never skips

from realtime_platform.catalog import stream_lineage  # noqa: E402


def test_topics_follow_the_connectors_regex_router():
    assert stream_lineage.debezium_topics() == {"orders": "public.orders", "person": "public.person"}


def test_without_router_the_topic_is_prefix_schema_table(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"name": "c", "config": {  # over the shared keys
        "topic.prefix": "shop", "table.include.list": "public\\.items,inventory\\.stock_.*", "transforms": "payload"}}))
    assert stream_lineage.debezium_topics(tmp_path) == {"shop.public.items": "public.items"}


def test_every_pinot_table_has_its_topic_and_source():
    tables = {t.name: t for t in stream_lineage.stream_tables()}
    assert set(tables) == {"person", "orders"}
    assert tables["orders"].topic == "orders" and tables["orders"].source_table == "public.orders"
    assert tables["orders"].primary_key == ["order_id"] and tables["orders"].upsert_mode == "FULL"


def test_mcps_chain_postgres_topic_pinot_and_trino():
    by_urn: dict[str, dict] = {}
    for mcp in stream_lineage.mcps(stream_lineage.stream_tables(), postgres_db="app"):
        by_urn.setdefault(mcp.entityUrn, {})[mcp.aspectName] = mcp.aspect
    pinot = "urn:li:dataset:(urn:li:dataPlatform:pinot,orders,PROD)"
    trino = "urn:li:dataset:(urn:li:dataPlatform:trino,pinot.default.orders,PROD)"
    topic = "urn:li:dataset:(urn:li:dataPlatform:kafka,orders,PROD)"
    source = "urn:li:dataset:(urn:li:dataPlatform:postgres,app.public.orders,PROD)"
    fields = {f.fieldPath: f for f in by_urn[pinot]["schemaMetadata"].fields}
    assert fields["order_id"].isPartOfKey and not fields["status"].isPartOfKey
    assert fields["amount"].nativeDataType == "STRING"  # the exact decimal text (column_types.py)
    assert by_urn[pinot]["upstreamLineage"].upstreams[0].dataset == topic
    assert by_urn[topic]["upstreamLineage"].upstreams[0].dataset == source
    assert by_urn[trino]["siblings"].siblings == [pinot] and by_urn[trino]["siblings"].primary
    assert by_urn[pinot]["siblings"].siblings == [trino] and not by_urn[pinot]["siblings"].primary
    assert by_urn[trino]["upstreamLineage"].upstreams[0].dataset == pinot

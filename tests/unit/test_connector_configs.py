"""Invariants of the Debezium connectors as posted: each file over debezium/shared/postgres.json
(no services needed)."""

from __future__ import annotations

import re

import pytest

from realtime_platform.stream_config import load_connector
from tests.conftest import REPO, load_json

CONNECTORS = sorted((REPO / "debezium").glob("*.json"))
SECRET_REFERENCE = re.compile(r"^\$\{(env|file):[^}]+\}$")


def java_regex_replace(regex: str, replacement: str, topic: str) -> str:
    """What Kafka's RegexRouter does: matcher.matches() on the whole topic, then replaceFirst."""
    match = re.fullmatch(regex, topic)
    if not match:
        return topic
    return re.sub(r"\$(\d+)", lambda m: match.group(int(m.group(1))), replacement)


def test_connector_files_exist():
    assert [p.name for p in CONNECTORS], "debezium/ holds no connector file"


@pytest.mark.parametrize("path", CONNECTORS, ids=lambda p: p.name)
class TestConnector:
    def test_has_name_and_class(self, path):
        connector = load_connector(path)
        assert connector.name
        assert connector.config["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"

    def test_secrets_and_endpoints_come_from_a_config_provider(self, path):
        config = load_connector(path).config
        for key in ("database.hostname", "database.port", "database.user", "database.password",
                    "database.dbname"):
            assert SECRET_REFERENCE.match(config[key]), f"{key} is literal: {config[key]!r}"

    def test_obsolete_and_unsafe_keys_are_absent(self, path):
        config = load_connector(path).config
        assert "database.server.name" not in config, "removed in Debezium 2.0; topic.prefix replaces it"
        assert config["publication.autocreate.mode"] == "disabled", \
            "publications are created by postgres/init so Debezium's role needs no ownership"

    def test_replication_slot_and_publication_are_explicit(self, path):
        config = load_connector(path).config
        assert config["plugin.name"] == "pgoutput"
        assert config["slot.name"] and config["publication.name"]
        # The stream's DDL file names its table and publication for lib/cdc-source.psql.
        table = config["table.include.list"].replace("\\", "")
        ddl = [p.read_text() for p in (REPO / "postgres" / "init").glob("*.sql")]
        [stream_ddl] = [text for text in ddl if f"\\set source_table {table}\n" in text]
        assert f"\\set publication {config['publication.name']}\n" in stream_ddl
        assert "\\ir lib/cdc-source.psql" in stream_ddl

    def test_heartbeats_advance_the_slot(self, path):
        config = load_connector(path).config
        assert int(config["heartbeat.interval.ms"]) > 0
        assert "debezium.heartbeat" in config["heartbeat.action.query"]

    def test_key_is_the_primary_key(self, path):
        config = load_connector(path).config
        table = config["table.include.list"].replace("\\", "")
        ddl = "\n".join(p.read_text() for p in (REPO / "postgres" / "init").glob("*.sql"))
        primary_key = re.search(rf"CREATE TABLE IF NOT EXISTS {re.escape(table)} \((.*?)\n\);", ddl, re.S)
        assert primary_key, f"no DDL for {table} in postgres/init"
        pk_columns = re.search(r"PRIMARY KEY \(([^)]*)\)", primary_key.group(1)).group(1)
        assert config["message.key.columns"] == f"{table}:{pk_columns.replace(' ', '')}"

    def test_routed_topic_is_the_one_pinot_consumes(self, path):
        config = load_connector(path).config
        table = config["table.include.list"].replace("\\", "")
        topic = java_regex_replace(config["transforms.route.regex"], config["transforms.route.replacement"],
                                   f"{config['topic.prefix']}.{table}")
        consumed = {load_json(p)["tableIndexConfig"]["streamConfigs"]["stream.kafka.topic.name"]
                    for p in (REPO / "pinot" / "tables").glob("*/*_table.json")}
        assert topic in consumed, f"connector writes {topic!r}; Pinot consumes {sorted(consumed)}"

    def test_heartbeat_topic_is_not_rerouted(self, path):
        config = load_connector(path).config
        heartbeat_topic = f"__debezium-heartbeat.{config['topic.prefix']}"
        assert java_regex_replace(config["transforms.route.regex"], config["transforms.route.replacement"],
                                  heartbeat_topic) == heartbeat_topic

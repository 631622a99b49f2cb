"""Compaction's pure parts: which table a view reads and the switch between the two, the rebuilt
table's config, the serving mark, the create_views hook, and which streams are due."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from realtime_platform import compaction
from realtime_platform.airflow import compaction as airflow_compaction
from realtime_platform.compaction import (
    SERVING,
    CompactionError,
    _is_serving,
    _with_serving,
    on_table,
    read_stand_ins,
    reads,
    rebuilt_config,
)
from realtime_platform.pinot_capacity import TableCapacity

VIEW = ("SELECT order_id, status FROM pinot.default.orders WHERE deleted = false "
        "AND order_id NOT IN (SELECT order_id FROM pinot.default.orders_archive)")


def test_a_view_reads_its_table_or_the_stand_in_and_nothing_with_a_longer_name():
    assert reads(VIEW, "orders") == "orders"
    assert reads(VIEW.replace("default.orders ", "default.orders_rebuild "), "orders") == "orders_rebuild"
    assert reads("SELECT 1 FROM pinot.default.orders_archive", "orders") is None


def test_switching_replaces_the_tables_reference_only():
    on_stand_in = on_table(VIEW, "orders", "orders_rebuild")
    assert "FROM pinot.default.orders_rebuild WHERE" in on_stand_in
    assert "pinot.default.orders_archive" in on_stand_in  # another table that starts with the name
    assert on_table(on_stand_in, "orders", "orders") == VIEW
    with pytest.raises(CompactionError, match="does not read pinot.default.orders"):
        on_table("SELECT 1 FROM pinot.default.person", "orders", "orders_rebuild")


def test_create_views_sql_reads_serving_stand_ins_only():
    sql = "CREATE OR REPLACE VIEW hive.views.orders AS SELECT * FROM pinot.default.orders WHERE NOT deleted;"
    assert read_stand_ins(sql, {}) == sql
    assert read_stand_ins(sql, {"person": "person_rebuild"}) == sql
    assert read_stand_ins(sql, {"orders": "orders_rebuild"}).endswith("FROM pinot.default.orders_rebuild WHERE NOT deleted;")


def live_config() -> dict:
    return {"tableName": "orders_REALTIME", "segmentsConfig": {"schemaName": "orders"},
            "tableIndexConfig": {"streamConfigs": {"stream.kafka.topic.name": "orders",
                                                   compaction.OFFSET_RESET: "smallest"}},
            "upsertConfig": {"mode": "FULL", "comparisonColumn": "lsn"},
            "metadata": {"customConfigs": {SERVING: "true", "owner": "platform"}}}


def test_a_rebuilt_table_starts_at_the_topics_end_under_its_own_name_and_does_not_serve():
    original = live_config()
    config = rebuilt_config(original, "orders", "orders")
    assert config["tableName"] == "orders"
    assert config["segmentsConfig"]["schemaName"] == "orders"
    assert config["tableIndexConfig"]["streamConfigs"][compaction.OFFSET_RESET] == "largest"
    assert config["tableIndexConfig"]["streamConfigs"]["stream.kafka.topic.name"] == "orders"
    assert config["upsertConfig"] == original["upsertConfig"]
    assert not _is_serving(config) and config["metadata"]["customConfigs"] == {"owner": "platform"}
    assert original == live_config()  # the live config is not changed in place


def test_the_stand_in_consumes_its_feeds_topic_from_the_start():
    config = rebuilt_config(live_config(), "orders_rebuild", "orders_rebuild", "smallest")
    assert config["tableName"] == "orders_rebuild"
    assert config["tableIndexConfig"]["streamConfigs"]["stream.kafka.topic.name"] == "orders_rebuild"
    assert config["tableIndexConfig"]["streamConfigs"][compaction.OFFSET_RESET] == "smallest"


def test_the_serving_mark_is_set_and_taken_off():
    config = _with_serving({"tableName": "orders_rebuild"}, serving=True)
    assert _is_serving(config)
    assert not _is_serving(_with_serving(config, serving=False))
    assert not _is_serving({"metadata": {}})


def test_the_create_views_hook_rewrites_the_rendered_sql_while_a_stand_in_serves(monkeypatch):
    monkeypatch.setenv("PINOT_CONTROLLER_URL", "http://pinot.invalid")
    sql = "CREATE OR REPLACE VIEW hive.views.orders AS SELECT * FROM pinot.default.orders"
    task = SimpleNamespace(sql=sql, log=logging.getLogger("test"))

    monkeypatch.setattr(compaction, "serving_stand_ins", lambda url: {})
    airflow_compaction.stand_in_hook({"task": task})
    assert task.sql == sql

    monkeypatch.setattr(compaction, "serving_stand_ins", lambda url: {"orders": "orders_rebuild"})
    airflow_compaction.stand_in_hook({"task": task})
    assert task.sql.endswith("FROM pinot.default.orders_rebuild")


def test_streams_are_due_past_both_thresholds():
    tables = [TableCapacity("orders", documents=3_000_000, keys=400_000, live=200_000),  # 93 % dead
              TableCapacity("person", documents=900_000, keys=600_000, live=100_000),  # too few documents
              TableCapacity("fresh", documents=2_000_000, keys=1_500_000, live=1_500_000),  # 25 % dead
              TableCapacity("empty", documents=0, keys=0, live=0)]
    assert airflow_compaction.due(tables, dead_share=0.5, min_documents=1_000_000) == ["orders"]
    assert airflow_compaction.due(tables, dead_share=0, min_documents=0) == ["orders", "person", "fresh"]


def test_a_table_the_broker_does_not_route_is_dropped_and_created_again(monkeypatch):
    """Pinot 0.11 can leave a re-created table's broker resource in ERROR (a race with the controller's
    BrokerResourceValidationManager): the broker answers error 410 for it until it is dropped again."""
    calls, answers = [], iter([[{"errorCode": 410, "message": "BrokerResourceMissingError"}], []])

    class Answer:
        def __init__(self, exceptions):
            self.exceptions = exceptions

        def raise_for_status(self):
            pass

        def json(self):
            return {"exceptions": self.exceptions}

    monkeypatch.setattr(compaction.requests, "get", lambda url, **_: SimpleNamespace(ok=True))
    monkeypatch.setattr(compaction.requests, "post", lambda url, **_: Answer(next(answers)))
    monkeypatch.setattr(compaction, "_send", lambda method, url, what, **_: calls.append(what))
    monkeypatch.setattr(compaction, "_drop", lambda controller, table, **_: calls.append(f"drop {table}"))
    monkeypatch.setattr(compaction, "consuming", lambda controller, table: {"s0"})

    def once(what, condition, *_, **__):  # no waiting: one look, then the deadline
        if not (result := condition()):
            raise TimeoutError(what)
        return result

    monkeypatch.setattr(compaction, "wait", once)
    monkeypatch.setattr("realtime_platform.stream_commands.incremental_snapshot",
                        lambda *args, **kwargs: calls.append("snapshot"))
    svc = compaction.CompactionServices("http://controller", "http://broker", "kafka:9092", "http://connect",
                                        trino=lambda sql: [], postgres=lambda sql, params: None)
    stream = compaction._Stream("orders", "hive.views.orders", ("order_id",), "public.orders", "app", "smallest",
                                "orders", "orders")
    config = rebuilt_config(live_config(), "orders", "orders")
    compaction._build(svc, stream, "orders", config, {"schemaName": "orders"}, 1, 60, lambda line: None)
    assert calls == ["create table orders", "drop orders", "create table orders", "snapshot"]


@pytest.mark.parametrize(("documents", "committed"), [(700, False), (199_999, False), (200_000, True), (404_662, True)])
def test_a_rebuilt_table_is_committed_before_serving_only_near_its_first_commit(monkeypatch, documents, committed):
    """Four partitions: Pinot would commit at 100,000 rows each; half of that is near."""
    calls = []
    monkeypatch.setattr(compaction, "table_capacity", lambda url, table: TableCapacity(table, documents, 1, 1))
    monkeypatch.setattr(compaction, "consuming", lambda url, table: {"s0", "s1", "s2", "s3"})
    monkeypatch.setattr(compaction, "commit_consuming", lambda url, table: calls.append(table) or {"s0"})
    svc = compaction.CompactionServices("http://controller", "http://broker", "kafka:9092", "http://connect",
                                        trino=lambda sql: [], postgres=lambda sql, params: None)
    compaction._commit_rebuilt(svc, "orders_rebuild", lambda line: None)
    assert calls == (["orders_rebuild"] if committed else [])


def test_a_feed_slot_left_behind_fails_the_compaction_and_says_how_to_drop_it(monkeypatch):
    """A slot keeps PostgreSQL's WAL for good: the compaction must not end quietly with one left."""
    def once(what, condition, *_, **__):
        if not (result := condition()):
            raise TimeoutError(what)
        return result

    monkeypatch.setattr(compaction, "wait", once)
    asked = []
    svc = compaction.CompactionServices("http://controller", "http://broker", "kafka:9092", "http://connect",
                                        trino=lambda sql: [],
                                        postgres=lambda sql, params: asked.append(params) or [(1,)])
    with pytest.raises(CompactionError, match=r"pg_drop_replication_slot\('debezium_orders_compaction'\)"):
        compaction._wait_slot_dropped(svc, "debezium_orders_compaction")
    assert asked == [("debezium_orders_compaction",)]
    gone = compaction.CompactionServices("http://controller", "http://broker", "kafka:9092", "http://connect",
                                         trino=lambda sql: [], postgres=lambda sql, params: [])
    compaction._wait_slot_dropped(gone, "debezium_orders_compaction")

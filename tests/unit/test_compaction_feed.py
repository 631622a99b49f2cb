"""The stand-in's feed: the stream connector's config, with what makes it a second, separate reader
of the table that no signal reaches and that leaves no slot behind."""

from __future__ import annotations

import json
from pathlib import Path

from realtime_platform import compaction_feed
from realtime_platform.config import REPO_ROOT


def stream_connector(name: str) -> dict[str, str]:
    """The connector as Kafka Connect holds it: the shared keys under the stream's own, unresolved."""
    shared = json.loads(Path(REPO_ROOT, "debezium", "shared", "postgres.json").read_text())["config"]
    own = json.loads(Path(REPO_ROOT, "debezium", f"{name}.json").read_text())
    return {**shared, **own["config"], "name": own["name"]}


def test_the_feed_is_its_own_connector_with_its_own_slot_prefix_and_topic():
    config = stream_connector("orders")
    feed = compaction_feed.feed("orders", config, "orders", "orders_rebuild")
    assert feed.connector == feed.config["name"] == "orders-compaction"
    assert feed.slot == feed.config["slot.name"] == "debezium_orders_compaction"
    assert feed.config["slot.drop.on.stop"] == "true"
    assert feed.config["topic.prefix"] == "order_service_compaction"
    assert feed.heartbeat_topic == "__debezium-heartbeat.order_service_compaction"
    assert feed.config["snapshot.mode"] == "initial"
    # The same publication, table and secrets (placeholders), so the same rows, and no secret here.
    for key in ("publication.name", "table.include.list", "database.password", "message.key.columns"):
        assert feed.config[key] == config[key]
    assert config["slot.name"] == "debezium_orders"  # the stream's own config is not changed in place


def test_the_feed_ignores_signals_so_step_2s_snapshot_does_not_reach_the_serving_stand_in():
    config = stream_connector("orders")
    assert "signal.data.collection" in config
    feed = compaction_feed.feed("orders", config, "orders", "orders_rebuild")
    assert "signal.data.collection" not in feed.config


def test_the_feed_renames_the_topic_after_the_streams_own_routing_and_keying():
    """The key transform's predicate matches the stream's topic name, so the rename must come last:
    the same key bytes, so the same partition as in the stream's topic (Pinot prunes by partition)."""
    config = stream_connector("orders")
    feed = compaction_feed.feed("orders", config, "orders", "orders_rebuild")
    transforms = feed.config["transforms"].split(",")
    assert transforms == [*config["transforms"].split(","), compaction_feed.ROUTER]
    assert feed.config[f"transforms.{compaction_feed.ROUTER}.regex"] == "^orders$"
    assert feed.config[f"transforms.{compaction_feed.ROUTER}.replacement"] == "orders_rebuild"


def test_a_connector_without_transforms_gets_the_router_alone():
    feed = compaction_feed.feed("t", {"topic.prefix": "p", "slot.name": "s"}, "t", "t_rebuild")
    assert feed.config["transforms"] == compaction_feed.ROUTER

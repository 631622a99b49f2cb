"""The stand-in's feed: the stream connector's config, with what makes it a second, separate reader
of the table that no signal reaches and that leaves no slot behind."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from realtime_platform import compaction, compaction_feed
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


class FakeConnect:
    """Kafka Connect's REST answers for one connector, recording each call."""

    def __init__(self):
        self.calls: list[str] = []
        self.state = None  # no connector yet

    def _answer(self, status: int, body: dict | None = None):
        return SimpleNamespace(ok=status < 300, status_code=status, text="", json=lambda: body or {})

    def request(self, method: str, url: str, **kwargs):
        path = url.removeprefix("http://connect")
        self.calls.append(f"{method} {path}")
        if method == "POST" and path == "/connectors":
            self.state = kwargs["json"]["initial_state"]
            return self._answer(201)
        if path.endswith("/status"):
            if self.state is None:
                return self._answer(404)
            tasks = [{"state": self.state}] if self.state == "RUNNING" else []
            return self._answer(200, {"connector": {"state": self.state}, "tasks": tasks})
        if path.endswith("/resume"):
            self.state = "RUNNING"
        return self._answer(200)


def test_a_feed_starts_stopped_and_forgets_offsets_connect_kept_under_its_name(monkeypatch):
    """A connector that finds offsets under its name resumes there and skips its snapshot: a feed
    deleted without `remove` would then leave the stand-in without the rows changed meanwhile."""
    connect = FakeConnect()
    for verb in ("GET", "POST", "PUT", "DELETE"):
        monkeypatch.setattr(compaction_feed.requests, verb.lower(),
                            lambda url, _verb=verb, **kw: connect.request(_verb, url, **kw))
    monkeypatch.setattr(compaction_feed, "wait", lambda what, condition, *a, **k: condition() or condition())
    the_feed = compaction_feed.feed("orders", stream_connector("orders"), "orders", "orders_rebuild")
    compaction_feed.start("http://connect", the_feed, lambda line: None)
    url = "/connectors/orders-compaction"
    assert [c for c in connect.calls if not c.endswith("/status")] == [
        "POST /connectors", f"DELETE {url}/offsets", f"PUT {url}/resume"]
    assert connect.state == "RUNNING"


def test_step_2_resumed_starts_a_feed_that_is_gone_and_leaves_a_running_one(monkeypatch):
    calls = []
    monkeypatch.setattr(compaction_feed, "exists", lambda url, name: calls.append("exists") or present)
    monkeypatch.setattr(compaction_feed, "remove", lambda *a, keep_topic=False, **k: calls.append(f"remove {keep_topic}"))
    monkeypatch.setattr(compaction_feed, "start", lambda *a, **k: calls.append("start"))
    svc = compaction.CompactionServices("http://controller", "http://broker", "kafka:9092", "http://connect",
                                        trino=lambda sql: [], postgres=lambda sql, params: [])
    stream = compaction._Stream("orders", "hive.views.orders", ("order_id",), "public.orders", "app", "smallest",
                                "orders", "orders")
    the_feed = compaction_feed.feed("orders", stream_connector("orders"), "orders", "orders_rebuild")
    present = True
    compaction._resume_feed(svc, stream, the_feed, lambda line: None)
    assert calls == ["exists"]
    calls.clear()
    present = False
    compaction._resume_feed(svc, stream, the_feed, lambda line: None)
    assert calls == ["exists", "remove True", "start"]  # the stand-in's topic stays: it still consumes it

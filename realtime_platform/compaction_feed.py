"""The stand-in's own feed during a compaction: a second Debezium connector on the stream's table.

Pinot 0.11 moves a key's valid row between segments in two bitmap updates, not atomically for a
concurrent query, so a snapshot passing through a table that serves readers (an update of every
row) can make a read miss a row or count it twice for a moment. A compaction therefore never sends
a snapshot through the served table:
- step 1's stand-in consumes its own topic, `<stand-in>`, written by its own connector
  `<connector>-compaction` with its own slot: an initial snapshot, then every change after it. The
  served table sees none of that snapshot.
- step 2 rebuilds the table from the stream's topic (an incremental snapshot of the stream's own
  connector) while the serving stand-in reads the other topic.

The feed is the stream's connector as Kafka Connect holds it (placeholders unresolved, so no secret
passes through here), with its own name, topic prefix and slot, its slot dropped when it stops
(`slot.drop.on.stop`), no signal table (it must not act on step 2's snapshot signal), and one more
router at the end of its transforms: the stream's topic renamed to the stand-in's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import requests

from realtime_platform import kafka_connect
from realtime_platform.polling import wait

SUFFIX = "_compaction"
ROUTER = "compactionTopic"  # the transform's alias in the feed's `transforms`
HEARTBEAT_PREFIX = "__debezium-heartbeat."  # Debezium's default heartbeat topic: <this><topic.prefix>


class FeedError(RuntimeError):
    """The feed could not be set up or taken down; the message says what Kafka Connect answered."""


@dataclass(frozen=True)
class Feed:
    connector: str  # the feed's Kafka Connect name
    topic: str  # what the stand-in consumes
    slot: str
    heartbeat_topic: str
    config: dict[str, str]


def feed(stream_connector: str, stream_config: dict[str, str], stream_topic: str, stand_in: str) -> Feed:
    """The feed of `stand_in`, from the stream connector's config as Kafka Connect returns it."""
    config = copy.deepcopy(stream_config)
    config["name"] = f"{stream_connector}-compaction"
    config["topic.prefix"] = prefix = f"{stream_config['topic.prefix']}{SUFFIX}"
    config["slot.name"] = slot = f"{stream_config.get('slot.name', 'debezium')}{SUFFIX}"
    config["slot.drop.on.stop"] = "true"
    config["snapshot.mode"] = "initial"
    config.pop("signal.data.collection", None)
    config.pop("incremental.snapshot.watermarking.strategy", None)
    transforms = [t for t in config.get("transforms", "").split(",") if t]
    config["transforms"] = ",".join([*transforms, ROUTER])
    config[f"transforms.{ROUTER}.type"] = "org.apache.kafka.connect.transforms.RegexRouter"
    config[f"transforms.{ROUTER}.regex"] = f"^{stream_topic}$"  # after the stream's own routing and keying
    config[f"transforms.{ROUTER}.replacement"] = stand_in
    return Feed(config["name"], stand_in, slot, f"{HEARTBEAT_PREFIX}{prefix}", config)


def stream_connector_config(connect_url: str, connector: str) -> dict[str, str]:
    response = requests.get(f"{connect_url}/connectors/{connector}/config", timeout=10)
    if not response.ok:
        raise FeedError(f"Kafka Connect has no connector {connector} (HTTP {response.status_code}): "
                        "bootstrap the stream first")
    return response.json()


def exists(connect_url: str, connector: str) -> bool:
    return requests.get(f"{connect_url}/connectors/{connector}", timeout=10).ok


def create_topic(kafka_bootstrap: str, like: str, topic: str) -> None:
    """`topic`, with as many partitions as `like` (the stream's topic): the same key, the same partition."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    if like not in topics:
        raise FeedError(f"Kafka has no topic {like}")
    if topic not in topics:
        for future in admin.create_topics([NewTopic(topic, len(topics[like].partitions), -1)]).values():
            future.result(timeout=60)


def _ok(response: requests.Response, what: str) -> None:
    if not response.ok:
        raise FeedError(f"Kafka Connect refused to {what}: HTTP {response.status_code} {response.text[:500]}")


def start(connect_url: str, the_feed: Feed, log: Callable[[str], None]) -> None:
    """Creates the feed's connector stopped, clears any source offsets Connect still keeps under its
    name (a feed deleted without `remove` leaves them, and a connector that finds offsets skips its
    snapshot), then resumes it and waits until its task runs; its snapshot follows on its own."""
    url = f"{connect_url}/connectors/{the_feed.connector}"
    _ok(requests.post(f"{connect_url}/connectors", timeout=60, json={
        "name": the_feed.connector, "config": the_feed.config, "initial_state": "STOPPED"}),
        f"create the feed {the_feed.connector}")
    wait(f"connector {the_feed.connector} created stopped", lambda: (r := requests.get(
        f"{url}/status", timeout=10)).ok and r.json()["connector"]["state"] == "STOPPED", 60, 0.5)
    _ok(requests.delete(f"{url}/offsets", timeout=30), f"clear the offsets of {the_feed.connector}")
    _ok(requests.put(f"{url}/resume", timeout=30), f"resume {the_feed.connector}")

    def running() -> bool:
        response = requests.get(f"{connect_url}/connectors/{the_feed.connector}/status", timeout=10)
        if not response.ok:  # 404 until a worker has taken the new connector
            return False
        state = response.json()
        tasks = state.get("tasks") or []
        if any(t.get("state") == "FAILED" for t in tasks):
            raise FeedError(f"the feed {the_feed.connector} failed: {tasks[0].get('trace', '')[:800]}")
        return state["connector"]["state"] == "RUNNING" and bool(tasks) and all(
            t.get("state") == "RUNNING" for t in tasks)

    wait(f"connector {the_feed.connector} running", running, 120, 1)
    log(f"connector {the_feed.connector}: a snapshot of the table, then its changes, into topic "
        f"{the_feed.topic} (slot {the_feed.slot})")


def remove(connect_url: str, kafka_bootstrap: str, the_feed: Feed, log: Callable[[str], None],
           keep_topic: bool = False) -> None:
    """Stops the feed (its slot is dropped at the stop), forgets its offsets, deletes it and its topics
    (`keep_topic`: the stand-in's topic stays, for a stand-in that still consumes it); each step
    idempotent, so a compaction that stopped half-way can call it again."""
    from confluent_kafka.admin import AdminClient

    kafka_connect.delete_with_offsets(connect_url, the_feed.connector)
    if keep_topic:
        return
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    topics = [t for t in (the_feed.topic, the_feed.heartbeat_topic) if t in admin.list_topics(timeout=10).topics]
    for future in admin.delete_topics(topics).values() if topics else ():
        future.result(timeout=60)
    log(f"connector {the_feed.connector}: deleted with its offsets; topics {the_feed.topic} and "
        f"{the_feed.heartbeat_topic}: deleted")

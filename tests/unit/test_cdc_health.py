"""CDC health rules and readers, against small HTTP servers that answer like Kafka Connect and
Pinot's controller (their documented JSON shapes)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import pytest

from realtime_platform import cdc_health
from tests.http_fakes import JsonHandler

CONNECTORS = {
    "person": {"status": {"name": "person", "connector": {"state": "RUNNING", "worker_id": "w"},
                          "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w"}], "type": "source"}},
    "orders": {"status": {"name": "orders", "connector": {"state": "RUNNING", "worker_id": "w"},
                          "tasks": [{"id": 0, "state": "FAILED", "worker_id": "w", "trace": "boom"}],
                          "type": "source"}},
}
CONSUMING = {"_segmentToConsumingInfoMap": {"person__0__5__20261129T1638Z": [
    {"serverName": "Server_127.0.0.1_8098", "consumerState": "CONSUMING",
     "lastConsumedTimestamp": 1_000_000, "partitionToOffsetMap": {"0": "900"}}]}}


@pytest.fixture
def service():
    class Handler(JsonHandler):
        def do_GET(self):
            if self.path == "/connectors?expand=status":
                self.send_json(CONNECTORS)
            elif self.path == "/tables/person/consumingSegmentsInfo":
                self.send_json(CONSUMING)
            else:
                self.send_json({"error": "not found"}, 404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_slot_lag_past_the_limit_names_the_slot_and_its_lag():
    slots = cdc_health.slot_lags([("debezium_person", True, 3 << 30), ("debezium_orders", False, 10)])
    found = cdc_health.problems(slots, [], slot_lag_limit_bytes=1 << 30)
    assert found == ["replication slot debezium_person holds 3,072.0 MiB of WAL (limit 1,024.0 MiB)"]


def test_an_inactive_slot_past_the_limit_says_nobody_reads_it():
    found = cdc_health.problems(cdc_health.slot_lags([("s", False, 2 << 20)]), [], slot_lag_limit_bytes=1 << 20)
    assert found == ["replication slot s holds 2.0 MiB of WAL (limit 1.0 MiB), and no client reads it"]


def test_connector_and_task_states(service):
    states = cdc_health.connector_states(service)
    assert states == [cdc_health.ConnectorState("orders", "RUNNING", ((0, "FAILED"),)),
                      cdc_health.ConnectorState("person", "RUNNING", ((0, "RUNNING"),))]
    assert cdc_health.problems([], states) == ["connector orders task 0 is FAILED"]


def test_pinot_consumer_lag_against_kafka_end_offsets(service):
    lags = cdc_health.pinot_consumer_lags(service, {"person": "person"}, lambda topic: {0: 1000},
                                          now_ms=lambda: 4_000_000)
    assert lags == [cdc_health.ConsumerLag("person", "person", 0, 900, 1000, 3000.0, "Server_127.0.0.1_8098")]
    assert lags[0].records == 100


def test_an_unknown_table_is_an_error_not_a_silent_zero(service):
    with pytest.raises(Exception, match="404"):
        cdc_health.pinot_consumer_lags(service, {"nope": "nope"}, lambda topic: {})


def test_one_unreadable_table_is_a_problem_and_the_others_are_still_read(service):
    """`platformctl status` passes `errors`: a table whose state Pinot cannot give (a 500 or 404)
    becomes a sentence naming it, instead of a traceback that hides every other reading."""
    errors: list[str] = []
    lags = cdc_health.pinot_consumer_lags(service, {"nope": "nope", "person": "person"},
                                          lambda topic: {0: 1000}, now_ms=lambda: 4_000_000, errors=errors)
    assert [lag.table for lag in lags] == ["person"]
    assert len(errors) == 1 and errors[0].startswith("Pinot table nope: its consumers' state cannot be read: 404")


def test_prometheus_text_has_one_sample_per_reading():
    text = cdc_health.prometheus_text(
        cdc_health.slot_lags([("debezium_person", True, 4096)]),
        [cdc_health.ConnectorState("person", "RUNNING", ((0, "FAILED"),))],
        [cdc_health.ConsumerLag("person", "person", 0, 900, 1000, None, "Server_127.0.0.1_8098"),
         cdc_health.ConsumerLag("person", "person", 0, 990, 1000, None, "Server_127.0.0.1_8198")])
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in text.splitlines() if not line.startswith("#")}
    assert samples == {
        'cdc_replication_slot_lag_bytes{slot="debezium_person"}': 4096,
        'cdc_replication_slot_active{slot="debezium_person"}': 1,
        'cdc_connector_running{connector="person",task=""}': 1,
        'cdc_connector_running{connector="person",task="0"}': 0,
        # one series per replica of the partition (TOPOLOGY=scaled: each server consumes it)
        'cdc_pinot_consumer_lag_records{table="person",topic="person",partition="0",server="Server_127.0.0.1_8098"}': 100,
        'cdc_pinot_consumer_lag_records{table="person",topic="person",partition="0",server="Server_127.0.0.1_8198"}': 10,
    }
    assert text.count("# TYPE") == 4

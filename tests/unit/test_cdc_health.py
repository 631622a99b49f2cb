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


SEGMENT = "flags__0__0__20261204T2311Z"
ERROR_INFO = {
    "timestamp": "2026-12-04 23:51:01 UTC",
    "errorMessage": "Caught exception while transforming the record: {\n  \"fieldToValueMap\" : { ... }\n}",
    "stackTrace": "java.lang.RuntimeException: Caught exception while executing function: "
                  "equals(jsonPathString(payload,'$.after.active',''),'true')\n"
                  "\tat org.apache.pinot.segment.local.function.InbuiltFunctionEvaluator.evaluate(X.java:105)\n"
                  "Caused by: java.lang.NumberFormatException: For input string: \"false\"\n\tat java.base/x.y(Z.java:1)"}
ERROR = ("RuntimeException: Caught exception while executing function: "
         "equals(jsonPathString(payload,'$.after.active',''),'true'); caused by NumberFormatException: "
         "For input string: \"false\"")
# GET /debug/tables/flags?type=REALTIME&verbosity=1 of Pinot 0.11's controller (TableDebugResource)
DEBUG = [{"tableName": "flags_REALTIME", "segmentDebugInfos": [
    {"segmentName": SEGMENT, "serverState": {"Server_127.0.0.1_8098": {
        "idealState": "CONSUMING", "externalView": "CONSUMING",
        "consumerInfo": {"segmentName": SEGMENT, "consumerState": "CONSUMING", "partitionToOffsetMap": {"0": "149"}},
        "errorInfo": ERROR_INFO}}}]}]


@pytest.fixture
def service():
    class Handler(JsonHandler):
        def do_GET(self):
            if self.path == "/connectors?expand=status":
                self.send_json(CONNECTORS)
            elif self.path == "/tables/person/consumingSegmentsInfo":
                self.send_json(CONSUMING)
            elif self.path == "/debug/tables/flags?type=REALTIME&verbosity=1":
                self.send_json(DEBUG)
            elif self.path == f"/segments/flags/{SEGMENT}/metadata":
                self.send_json({"segment.realtime.startOffset": "0"})
            else:
                self.send_json({"error": "not found"}, 404)

        def do_POST(self):
            if self.path == "/query/sql":  # the broker: rows per segment, every version
                self.send_json({"resultTable": {"rows": [[SEGMENT, 0]]}, "exceptions": []})
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
    assert cdc_health.problems([], states, slot_lag_limit_bytes=1 << 30) == ["connector orders task 0 is FAILED"]


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


def test_a_table_whose_transform_throws_is_a_problem_with_the_count_and_pinots_error(service):
    """The trial of the issue: 149 rows consumed, 0 indexed, NumberFormatException per row."""
    gaps = cdc_health.pinot_ingestion_gaps(service, service, ["flags"])
    assert gaps == [cdc_health.IngestionGap("flags", SEGMENT, "Server_127.0.0.1_8098", 149, 0, ERROR)]
    assert cdc_health.ingestion_problems(gaps) == [
        f"Pinot table flags is dropping rows: 149 of 149 consumed in 1 consuming segment(s) not indexed; "
        f"Pinot's error: {ERROR}"]


def test_pinots_error_is_one_line_without_the_record():
    assert cdc_health.pinot_error(ERROR_INFO) == ERROR
    assert cdc_health.pinot_error({"errorMessage": "a\n  b"}) == "a b"
    assert cdc_health.pinot_error(None) == ""


def test_rows_the_filter_drops_on_purpose_are_no_problem():
    """Events without a key are dropped by the table's filter: no error is kept for them."""
    gap = cdc_health.IngestionGap("person", "s", "server", consumed=10, indexed=8, error="")
    assert gap.not_indexed == 2 and cdc_health.ingestion_problems([gap]) == []
    late = cdc_health.IngestionGap("person", "s", "server", consumed=10, indexed=12, error="old error")
    assert late.not_indexed == 0 and cdc_health.ingestion_problems([late]) == []


def test_an_unreadable_table_is_named_and_the_others_still_read(service):
    errors: list[str] = []
    gaps = cdc_health.pinot_ingestion_gaps(service, service, ["gone", "flags"], errors=errors)
    assert [g.table for g in gaps] == ["flags"]
    assert errors and errors[0].startswith("Pinot table gone: its ingestion cannot be read: 404")


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
    assert text.count("# TYPE") == 6

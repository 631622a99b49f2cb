"""Pinot capacity readings and the heap alarm, against a metrics page shaped like the one Pinot 0.11's
JMX exporter serves (excerpt of a real page) and a small server that answers like the broker."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families

from realtime_platform import pinot_capacity
from realtime_platform.pinot_capacity import ServerHeap, TableCapacity
from tests.http_fakes import JsonHandler

MIB = 2**20


def metrics_page(old_used: float, old_after_gc: float, survivors: float, heap_max: float = 1536 * MIB,
                 keys: dict[str, int] | None = None) -> str:
    """Pinot's page, trimmed to what the reader uses and a few neighbours it must skip."""
    keys = {"orders_REALTIME.0": 60000, "orders_REALTIME.1": 59876, "person_REALTIME.0": 18} if keys is None else keys
    gauges = "\n".join(
        f'_org_apache_pinot_common_metrics_servermetrics_value{{name="\\"pinot.server.upsertPrimaryKeysCount.{k}\\""}} {v}'
        for k, v in keys.items())
    return f"""# HELP _org_apache_pinot_common_metrics_servermetrics_value Attribute exposed for management
# TYPE _org_apache_pinot_common_metrics_servermetrics_value untyped
{gauges}
_org_apache_pinot_common_metrics_servermetrics_value{{name="\\"pinot.server.orders_REALTIME.documentCount\\""}} 467050.0
# HELP jvm_memory_max_bytes Max (bytes) of a given JVM memory area.
# TYPE jvm_memory_max_bytes gauge
jvm_memory_max_bytes{{area="heap"}} {heap_max}
jvm_memory_max_bytes{{area="nonheap"}} -1.0
# HELP jvm_memory_pool_collection_used_bytes Used bytes after last collection of a given JVM memory pool.
# TYPE jvm_memory_pool_collection_used_bytes gauge
jvm_memory_pool_collection_used_bytes{{pool="G1 Eden Space"}} 0.0
jvm_memory_pool_collection_used_bytes{{pool="G1 Old Gen"}} {old_after_gc}
jvm_memory_pool_collection_used_bytes{{pool="G1 Survivor Space"}} {survivors}
# HELP jvm_memory_pool_used_bytes Used bytes of a given JVM memory pool.
# TYPE jvm_memory_pool_used_bytes gauge
jvm_memory_pool_used_bytes{{pool="G1 Eden Space"}} 1.12197632E8
jvm_memory_pool_used_bytes{{pool="G1 Old Gen"}} {old_used}
jvm_memory_pool_used_bytes{{pool="G1 Survivor Space"}} {survivors}
jvm_memory_pool_used_bytes{{pool="Metaspace"}} 8.0E7
"""


def test_keys_are_summed_over_every_table_and_partition_and_the_heap_read_after_gc():
    heap = pinot_capacity.server_heap("http://127.0.0.1:8008/metrics",
                                      metrics_page(old_used=900 * MIB, old_after_gc=400 * MIB, survivors=11 * MIB))
    assert heap == ServerHeap("127.0.0.1:8008", 60000 + 59876 + 18, 411 * MIB, 1536 * MIB)


def test_before_any_old_collection_the_old_generation_in_use_counts():
    heap = pinot_capacity.server_heap("http://h:1/metrics",
                                      metrics_page(old_used=91 * MIB, old_after_gc=0.0, survivors=11 * MIB))
    assert heap.used_after_gc == 102 * MIB


def test_a_page_without_a_heap_is_an_error_not_a_zero():
    with pytest.raises(ValueError, match="no jvm_memory_max_bytes"):
        pinot_capacity.server_heap("http://h:1/metrics", "# TYPE x gauge\nx 1\n")


TABLES = [TableCapacity("person", documents=134, keys=74, live=19),
          TableCapacity("orders", documents=9_000_000, keys=1_200_000, live=1_000_000)]


def test_dead_share_counts_superseded_versions_and_deleted_keys():
    assert TABLES[1].dead_share == pytest.approx(1 - 1_000_000 / 9_000_000)
    assert TableCapacity("empty", 0, 0, 0).dead_share == 0.0


def test_a_server_past_the_limit_says_what_holds_the_heap_and_what_to_do():
    over = ServerHeap("127.0.0.1:8008", 1_200_074, int(1300 * MIB), 1536 * MIB)
    under = ServerHeap("127.0.0.1:8018", 10, int(1228 * MIB), 1536 * MIB)  # 79.9 %
    found = pinot_capacity.problems([over, under], TABLES, heap_limit_share=0.8)
    assert len(found) == 1
    assert found[0].startswith("Pinot server 127.0.0.1:8008 heap after GC is 1,300 MiB of 1,536 MiB (85%, limit 80%)"
                               " with 1,200,074 upsert keys")
    # the table with the most dead documents first, then what an operator can do
    assert "(orders 89% dead of 9,000,000 documents, person 86% dead of 134 documents)" in found[0]
    assert "raise PINOT_HEAP" in found[0]
    assert pinot_capacity.problems([over], TABLES, heap_limit_share=0.9) == []


def test_gauges_parse_back_to_the_readings():
    heaps = [ServerHeap("127.0.0.1:8008", 240_134, 98 * MIB, 1536 * MIB)]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(pinot_capacity.prometheus_text(heaps, TABLES))
               for s in family.samples}
    assert samples[("pinot_table_documents", (("table", "orders"),))] == 9_000_000
    assert samples[("pinot_table_keys", (("table", "person"),))] == 74
    assert samples[("pinot_table_live_rows", (("table", "orders"),))] == 1_000_000
    assert samples[("pinot_table_dead_share", (("table", "person"),))] == pytest.approx(1 - 19 / 134, abs=1e-4)
    assert samples[("pinot_server_upsert_keys", (("server", "127.0.0.1:8008"),))] == 240_134
    assert samples[("pinot_server_heap_after_gc_bytes", (("server", "127.0.0.1:8008"),))] == 98 * MIB
    assert samples[("pinot_server_heap_max_bytes", (("server", "127.0.0.1:8008"),))] == 1536 * MIB


@pytest.fixture
def broker():
    """Answers the three counts of `table_capacity` by their SQL, and a Pinot error for table `broken`."""
    asked: list[str] = []

    class Handler(JsonHandler):
        def do_POST(self):
            sql = self.rfile.read(int(self.headers["Content-Length"])).decode()
            asked.append(sql)
            if "broken" in sql:
                self.send_json({"exceptions": [{"errorCode": 190, "message": "TableDoesNotExistError"}]})
                return
            count = 900 if "skipUpsert" in sql else 300 if "deleted = false" in sql else 400
            self.send_json({"resultTable": {"rows": [[count]]}, "exceptions": []})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()


def test_table_capacity_reads_versions_keys_and_live_rows_from_the_broker(broker):
    url, asked = broker
    assert pinot_capacity.table_capacity(url, "orders") == TableCapacity("orders", 900, 400, 300)
    assert len(asked) == 3
    with pytest.raises(RuntimeError, match="TableDoesNotExistError"):
        pinot_capacity.table_capacity(url, "broken")

"""How close Pinot is to its memory wall, per table and per server.

Pinot 0.11 upsert tables never forget: a delete is one more version (`deleted = true`), and every
superseded version stays in its segment. Each server keeps a map of every key it has ever seen on its
heap, so the heap grows with the changes ever made, not with the live rows (#23). The readings:
- per table, through the broker: documents (every version, `skipUpsert`), keys held (the upsert
  view: the latest version of every key, deletes included) and live rows (`NOT deleted`);
- per server, from its Prometheus JMX exporter: the keys in its upsert maps
  (`upsertPrimaryKeysCount`) and its heap after the last collection against the maximum.

The readers take URLs and return plain values; `problems()` turns them into what an operator must
do, and `prometheus_text()` into gauges, so the rules are tested without services.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families

_KEYS_GAUGE = re.compile(r'"?pinot\.server\.upsertPrimaryKeysCount\.(?P<table>\w+?)_REALTIME\.(?P<partition>\d+)"?')


@dataclass(frozen=True)
class TableCapacity:
    table: str
    documents: int  # every version of every key ever written
    keys: int  # keys held: the latest version of each key, deleted keys too
    live: int  # keys whose latest version is not a delete

    @property
    def dead_share(self) -> float:
        """Share of the documents that are not a live row: superseded versions and deleted keys."""
        return 1 - self.live / self.documents if self.documents else 0.0


@dataclass(frozen=True)
class ServerHeap:
    server: str  # host:port of the metrics page it was read from
    keys: int  # upsert keys in this server's maps, every table and partition
    used_after_gc: int  # bytes: old generation after its last collection, plus survivors
    max: int  # bytes: -Xmx

    @property
    def share(self) -> float:
        return self.used_after_gc / self.max if self.max > 0 else 0.0


def _broker_count(broker_url: str, sql: str, timeout_s: float) -> int:
    response = requests.post(f"{broker_url}/query/sql", json={"sql": sql}, timeout=timeout_s)
    response.raise_for_status()
    answer = response.json()
    if answer.get("exceptions"):
        raise RuntimeError(f"Pinot broker: {str(answer['exceptions'][0].get('message'))[:300]}")
    return int(answer["resultTable"]["rows"][0][0])


def table_capacity(broker_url: str, table: str, timeout_s: float = 30) -> TableCapacity:
    return TableCapacity(
        table,
        documents=_broker_count(broker_url, f"SELECT count(*) FROM {table} OPTION(skipUpsert=true)", timeout_s),
        keys=_broker_count(broker_url, f"SELECT count(*) FROM {table}", timeout_s),
        live=_broker_count(broker_url, f"SELECT count(*) FROM {table} WHERE deleted = false", timeout_s))


def server_heap(metrics_url: str, text: str) -> ServerHeap:
    """From a Pinot server's JMX exporter page. The heap after GC is the old generation as its last
    collection left it (G1 updates that at every mixed or full collection, which start whenever the
    old generation passes G1's marking threshold) or, before any, its current use; plus survivors.
    Below that threshold the reading can lag behind the live heap; above it, it stays current."""
    keys, old_used, old_after, survivors, heap_max = 0, 0.0, 0.0, 0.0, 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            pool = sample.labels.get("pool", "")
            if _KEYS_GAUGE.fullmatch(sample.labels.get("name", "")):
                keys += int(sample.value)
            elif sample.name == "jvm_memory_max_bytes" and sample.labels.get("area") == "heap":
                heap_max = sample.value
            elif "Old Gen" in pool or "Tenured" in pool:
                if sample.name == "jvm_memory_pool_used_bytes":
                    old_used = sample.value
                elif sample.name == "jvm_memory_pool_collection_used_bytes":
                    old_after = sample.value
            elif "Survivor" in pool and sample.name == "jvm_memory_pool_collection_used_bytes":
                survivors = sample.value
    if heap_max <= 0:
        raise ValueError(f"{metrics_url} gives no jvm_memory_max_bytes for the heap: not a JVM's JMX exporter?")
    return ServerHeap(urlsplit(metrics_url).netloc or metrics_url, keys, int((old_after or old_used) + survivors), int(heap_max))


def server_heaps(metrics_urls: Iterable[str], timeout_s: float = 10) -> list[ServerHeap]:
    heaps = []
    for url in metrics_urls:
        response = requests.get(url, timeout=timeout_s)
        response.raise_for_status()
        heaps.append(server_heap(url, response.text))
    return heaps


def problems(heaps: Iterable[ServerHeap], tables: Iterable[TableCapacity],
             heap_limit_share: float) -> list[str]:
    """A server past the limit, with the tables that hold the most dead documents first."""
    by_dead = sorted(tables, key=lambda t: t.documents - t.live, reverse=True)
    worst = ", ".join(f"{t.table} {t.dead_share:.0%} dead of {t.documents:,} documents" for t in by_dead[:3])
    return [f"Pinot server {h.server} heap after GC is {h.used_after_gc / 2**20:,.0f} MiB of "
            f"{h.max / 2**20:,.0f} MiB ({h.share:.0%}, limit {heap_limit_share:.0%}) with {h.keys:,} upsert keys; "
            f"Pinot keeps every key and version ever written ({worst or 'no table read'}): raise PINOT_HEAP "
            "(PINOT_SERVER_HEAP when scaled) and restart, or rebuild the table from live rows (docs/operations.md)"
            for h in heaps if h.share > heap_limit_share]


def prometheus_text(heaps: Iterable[ServerHeap], tables: Iterable[TableCapacity]) -> str:
    tables = list(tables)
    heaps = list(heaps)
    lines = ["# HELP pinot_table_documents Documents a Pinot table holds: every version of every key.",
             "# TYPE pinot_table_documents gauge",
             *(f'pinot_table_documents{{table="{t.table}"}} {t.documents}' for t in tables),
             "# HELP pinot_table_keys Keys a Pinot upsert table holds, deleted keys too.",
             "# TYPE pinot_table_keys gauge",
             *(f'pinot_table_keys{{table="{t.table}"}} {t.keys}' for t in tables),
             "# HELP pinot_table_live_rows Keys whose latest version is not a delete.",
             "# TYPE pinot_table_live_rows gauge",
             *(f'pinot_table_live_rows{{table="{t.table}"}} {t.live}' for t in tables),
             "# HELP pinot_table_dead_share Share of the documents that are superseded versions or deleted keys.",
             "# TYPE pinot_table_dead_share gauge",
             *(f'pinot_table_dead_share{{table="{t.table}"}} {t.dead_share:.4f}' for t in tables),
             "# HELP pinot_server_upsert_keys Keys in a Pinot server's upsert maps (on its heap).",
             "# TYPE pinot_server_upsert_keys gauge",
             *(f'pinot_server_upsert_keys{{server="{h.server}"}} {h.keys}' for h in heaps),
             "# HELP pinot_server_heap_after_gc_bytes A Pinot server's heap after its last collection.",
             "# TYPE pinot_server_heap_after_gc_bytes gauge",
             *(f'pinot_server_heap_after_gc_bytes{{server="{h.server}"}} {h.used_after_gc}' for h in heaps),
             "# HELP pinot_server_heap_max_bytes A Pinot server's maximum heap.",
             "# TYPE pinot_server_heap_max_bytes gauge",
             *(f'pinot_server_heap_max_bytes{{server="{h.server}"}} {h.max}' for h in heaps)]
    return "\n".join(lines) + "\n"

"""Health of the CDC path, as Debezium and Pinot operators read it: replication slot lag in
PostgreSQL, connector and task states in Kafka Connect, Pinot's consumer lag per Kafka partition,
and rows Pinot consumed but did not index (a failing transform drops them silently).

A slot that stops advancing makes PostgreSQL keep WAL without limit; `problems()` turns each
reading into the sentence an operator needs (slot name and lag, connector and task, table and
partition). The readers take their I/O as arguments (a DB-API connection, base URLs, a function
that gives Kafka's end offsets), so the rules are tested without services.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class SlotLag:
    name: str
    active: bool
    lag_bytes: int  # WAL the slot still holds back: current LSN - confirmed_flush_lsn


@dataclass(frozen=True)
class ConnectorState:
    name: str
    state: str
    tasks: tuple[tuple[int, str], ...]  # (task id, state)


@dataclass(frozen=True)
class ConsumerLag:
    table: str
    topic: str
    partition: int
    consumed_offset: int
    end_offset: int
    seconds_since_consumed: float | None
    server: str = ""  # Pinot's instance name: with replicas, each server consumes each partition

    @property
    def records(self) -> int:
        return max(0, self.end_offset - self.consumed_offset)


@dataclass(frozen=True)
class IngestionGap:
    """Rows a consuming Pinot segment has read from Kafka but not indexed, with Pinot's last error."""

    table: str
    segment: str
    server: str
    consumed: int  # messages read into the segment: its current offset less its start offset
    indexed: int  # rows the segment holds (every version: the upsert view is skipped)
    error: str  # Pinot's last ingestion error for the segment ("" when none)

    @property
    def not_indexed(self) -> int:
        return max(0, self.consumed - self.indexed)


SLOT_LAG_SQL = ("SELECT slot_name, active, "
                "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint "
                "FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY slot_name")


def slot_lags(rows: Iterable[tuple]) -> list[SlotLag]:
    """From the rows of SLOT_LAG_SQL."""
    return [SlotLag(name, bool(active), int(lag)) for name, active, lag in rows]


def connector_states(connect_url: str, timeout_s: float = 5) -> list[ConnectorState]:
    response = requests.get(f"{connect_url}/connectors", params={"expand": "status"}, timeout=timeout_s)
    response.raise_for_status()
    states = []
    for name, entry in sorted(response.json().items()):
        status = entry["status"]
        tasks = tuple(sorted((t["id"], t["state"]) for t in status.get("tasks", [])))
        states.append(ConnectorState(name, status["connector"]["state"], tasks))
    return states


def pinot_consumer_lags(controller_url: str, tables: dict[str, str],
                        end_offsets: Callable[[str], dict[int, int]], timeout_s: float = 5,
                        now_ms: Callable[[], float] = lambda: time.time() * 1000,
                        errors: list[str] | None = None) -> list[ConsumerLag]:
    """tables: Pinot table -> its Kafka topic; end_offsets(topic) -> {partition: next offset}.

    With `errors`, a table whose state cannot be read adds a sentence there and the others are still
    read (an operator's status must not stop at one broken table); without, the error is raised."""
    lags = []
    for table, topic in sorted(tables.items()):
        try:
            response = requests.get(f"{controller_url}/tables/{table}/consumingSegmentsInfo", timeout=timeout_s)
            response.raise_for_status()
            ends = end_offsets(topic)
        except (requests.RequestException, KeyError, RuntimeError) as error:
            if errors is None:
                raise
            errors.append(f"Pinot table {table}: its consumers' state cannot be read: {error}")
            continue
        for replicas in response.json().get("_segmentToConsumingInfoMap", {}).values():
            for replica in replicas:
                consumed_at = replica.get("lastConsumedTimestamp")
                age = (now_ms() - consumed_at) / 1000 if consumed_at and consumed_at > 0 else None
                for partition, offset in replica.get("partitionToOffsetMap", {}).items():
                    lags.append(ConsumerLag(table, topic, int(partition), int(offset),
                                            ends.get(int(partition), int(offset)), age,
                                            replica.get("serverName", "")))
    return lags


_JAVA_CLASS = re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)+([A-Z]\w*)")


def pinot_error(info: dict | None) -> str:
    """One line from the error Pinot keeps for a segment: the exception and its root cause, from the
    stack trace (its message holds the whole record, which can be kilobytes)."""
    if not info:
        return ""
    headers = [line.strip() for line in (info.get("stackTrace") or "").splitlines()
               if line.strip() and not line.startswith(("\t", " "))]
    if headers:
        causes = [h.removeprefix("Caused by: ") for h in headers if h.startswith("Caused by: ")]
        text = headers[0] + (f"; caused by {causes[-1]}" if causes else "")
    else:
        text = " ".join((info.get("errorMessage") or "").split())
    text = _JAVA_CLASS.sub(r"\1", text)
    return text if len(text) <= 300 else text[:297] + "..."


def _segment_rows(broker_url: str, table: str, timeout_s: float) -> dict[str, int]:
    """Rows per segment, every version of every key (skipUpsert), through the broker."""
    sql = f"SELECT $segmentName, count(*) FROM {table} GROUP BY $segmentName LIMIT 100000 OPTION(skipUpsert=true)"
    response = requests.post(f"{broker_url}/query/sql", json={"sql": sql}, timeout=timeout_s)
    response.raise_for_status()
    answer = response.json()
    if answer.get("exceptions"):
        raise RuntimeError(f"Pinot broker: {answer['exceptions'][0].get('message', answer['exceptions'])[:300]}")
    return {segment: int(rows) for segment, rows in answer.get("resultTable", {}).get("rows", [])}


def pinot_ingestion_gaps(controller_url: str, broker_url: str, tables: Iterable[str], timeout_s: float = 10,
                         errors: list[str] | None = None) -> list[IngestionGap]:
    """For each consuming segment (on each server): messages consumed against rows indexed, and the
    error Pinot keeps for it. Pinot 0.11 drops a row whose transform throws and counts it only when
    the segment completes (rowsWithErrors, hours later); this sees it while it happens. With
    `errors`, a table that cannot be read adds a sentence there and the others are still read."""
    gaps = []
    for table in sorted(tables):
        try:
            response = requests.get(f"{controller_url}/debug/tables/{table}",
                                    params={"type": "REALTIME", "verbosity": "1"}, timeout=timeout_s)
            response.raise_for_status()
            consuming = []
            for info in response.json():
                for segment in info.get("segmentDebugInfos", []):
                    for server, state in (segment.get("serverState") or {}).items():
                        consumer = state.get("consumerInfo") or {}
                        if consumer.get("consumerState") != "CONSUMING":
                            continue
                        error = pinot_error(state.get("errorInfo"))
                        offset = sum(int(o) for o in (consumer.get("partitionToOffsetMap") or {}).values())
                        consuming.append((segment["segmentName"], server, offset, error))
            if not consuming:
                continue
            rows = _segment_rows(broker_url, table, timeout_s)
            for name, server, offset, error in consuming:
                metadata = requests.get(f"{controller_url}/segments/{table}/{name}/metadata", timeout=timeout_s)
                metadata.raise_for_status()
                start = int(metadata.json().get("segment.realtime.startOffset", 0))
                gaps.append(IngestionGap(table, name, server, offset - start, rows.get(name, 0), error))
        except (requests.RequestException, RuntimeError, KeyError, ValueError) as error:
            if errors is None:
                raise
            errors.append(f"Pinot table {table}: its ingestion cannot be read: {error}")
    return gaps


def ingestion_problems(gaps: Iterable[IngestionGap]) -> list[str]:
    """A segment that read rows it did not index, with an error from Pinot: rows are being thrown away.
    (Rows the table's filter drops on purpose, e.g. events without a key, leave no error.)"""
    by_table: dict[str, list[IngestionGap]] = {}
    for gap in gaps:
        if gap.error and gap.not_indexed:
            by_table.setdefault(gap.table, []).append(gap)
    found = []
    for table, failing in sorted(by_table.items()):
        lost, consumed = sum(g.not_indexed for g in failing), sum(g.consumed for g in failing)
        error = failing[0].error
        found.append(f"Pinot table {table} is dropping rows: {lost} of {consumed} consumed in "
                     f"{len(failing)} consuming segment(s) not indexed; Pinot's error: {error}")
    return found


def problems(slots: Iterable[SlotLag], connectors: Iterable[ConnectorState],
             slot_lag_limit_bytes: int) -> list[str]:
    """What needs an operator: a slot past the limit, a connector or task that is not RUNNING."""
    found = [f"replication slot {s.name} holds {s.lag_bytes / 2**20:,.1f} MiB of WAL "
             f"(limit {slot_lag_limit_bytes / 2**20:,.1f} MiB){'' if s.active else ', and no client reads it'}"
             for s in slots if s.lag_bytes > slot_lag_limit_bytes]
    for connector in connectors:
        if connector.state != "RUNNING":
            found.append(f"connector {connector.name} is {connector.state}")
        found += [f"connector {connector.name} task {task} is {state}"
                  for task, state in connector.tasks if state != "RUNNING"]
    return found


class CdcUnhealthy(RuntimeError):
    """Raised by the Airflow check with every problem in its message."""


def kafka_end_offsets(bootstrap: str) -> Callable[[str], dict[int, int]]:
    """end_offsets(topic) through a Kafka consumer (confluent-kafka), without joining a group."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "realtime-platform-health",
                         "enable.auto.commit": False})

    def end_offsets(topic: str) -> dict[int, int]:
        metadata = consumer.list_topics(topic, timeout=5).topics[topic]
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                for p in metadata.partitions}

    return end_offsets


def prometheus_text(slots: Iterable[SlotLag], connectors: Iterable[ConnectorState],
                    lags: Iterable[ConsumerLag], gaps: Iterable[IngestionGap] = ()) -> str:
    """The readings in Prometheus' text exposition format (e.g. for node_exporter's textfile
    collector, or a scrape of `platformctl metrics`)."""
    lines = [
        "# HELP cdc_replication_slot_lag_bytes WAL a logical replication slot holds back.",
        "# TYPE cdc_replication_slot_lag_bytes gauge",
        *(f'cdc_replication_slot_lag_bytes{{slot="{s.name}"}} {s.lag_bytes}' for s in slots),
        "# HELP cdc_replication_slot_active 1 when a client reads the slot.",
        "# TYPE cdc_replication_slot_active gauge",
        *(f'cdc_replication_slot_active{{slot="{s.name}"}} {int(s.active)}' for s in slots),
        "# HELP cdc_connector_running 1 when the connector (task=\"\") or task is RUNNING.",
        "# TYPE cdc_connector_running gauge",
    ]
    for c in connectors:
        lines.append(f'cdc_connector_running{{connector="{c.name}",task=""}} {int(c.state == "RUNNING")}')
        lines += [f'cdc_connector_running{{connector="{c.name}",task="{t}"}} {int(s == "RUNNING")}'
                  for t, s in c.tasks]
    lines += ["# HELP cdc_pinot_consumer_lag_records Kafka records a Pinot table has not consumed yet.",
              "# TYPE cdc_pinot_consumer_lag_records gauge"]
    lines += [f'cdc_pinot_consumer_lag_records{{table="{lag.table}",topic="{lag.topic}",'
              f'partition="{lag.partition}",server="{lag.server}"}} {lag.records}' for lag in lags]
    lines += ["# HELP cdc_pinot_rows_not_indexed Rows a consuming Pinot segment read but did not index "
              "(failed, or dropped by the table's filter).",
              "# TYPE cdc_pinot_rows_not_indexed gauge",
              "# HELP cdc_pinot_ingestion_error 1 when Pinot keeps an ingestion error for the consuming segment.",
              "# TYPE cdc_pinot_ingestion_error gauge"]
    for gap in gaps:
        labels = f'table="{gap.table}",segment="{gap.segment}",server="{gap.server}"'
        lines += [f"cdc_pinot_rows_not_indexed{{{labels}}} {gap.not_indexed}",
                  f"cdc_pinot_ingestion_error{{{labels}}} {int(bool(gap.error))}"]
    return "\n".join(lines) + "\n"

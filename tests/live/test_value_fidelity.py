"""Every value of every common PostgreSQL type arrives in the view exactly, and data_quality proves it.

The `all_types` stream of tests/live/fixtures/all_types has one column of each type that
realtime_platform/column_types.py carries. Rows are written before the connector exists (its
snapshot) and after (streamed): extreme numbers, NULLs of every type, explicit NULLs over a DEFAULT,
large TOASTed text that later UPDATEs leave untouched, deletes. Then every value of every column is
compared in Python between PostgreSQL and the view; then data_quality's content reconciliation must
agree, and must name the key and column of one value corrupted on purpose in Kafka.
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from confluent_kafka import Producer

from realtime_platform import postgres_tables
from realtime_platform.airflow.quality import DataQualityError, ViewCheck, run_checks, sql_sides
from realtime_platform.trino_client import query
from tests.live.conftest import run_bootstrap
from tests.live.fixture_streams import FixtureStream
from tests.live.kafka_records import read_topic
from tests.live.polling import wait
from tests.unit.test_column_types import ALL_TYPES_COLUMNS

pytestmark = pytest.mark.live

STREAM = FixtureStream("all_types")
ENUM = "public.all_types_mood"
COLUMNS = ["id", "small_n", "int_n", "big_n", "real_n", "double_n", "amount", "wide_amount", "flag", "label",
           "region", "mood", "uid", "doc", "raw_doc", "blob", "born_on", "wakes_at", "seen_at", "seen_at_ms",
           "seen_at_tz", "big_text"]
# JSON columns as their text: the view keeps the source's own JSON text (column_types.py).
SOURCE_SELECT = ", ".join(f"{c}::text" if c in ("doc", "raw_doc") else c for c in COLUMNS)

# Rows g in [first, last]: every type, with NULLs spread differently over the columns.
INSERT = """
INSERT INTO public.all_types (id, small_n, int_n, big_n, real_n, double_n, amount, wide_amount, flag, label,
    {region_column} mood, uid, doc, raw_doc, blob, born_on, wakes_at, seen_at, seen_at_ms, seen_at_tz,
    big_text)
SELECT g,
    CASE g % 4 WHEN 0 THEN -32768 WHEN 1 THEN 32767 ELSE g END,
    CASE WHEN g % 6 = 0 THEN NULL ELSE g * 1000003 END,
    CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN 9223372036854775807 WHEN 2 THEN -9223372036854775807 ELSE g * 7919 END,
    (CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN 1.1 WHEN 2 THEN 3.4028235e38 ELSE g / 7.0 END)::real,
    (CASE g % 6 WHEN 0 THEN NULL WHEN 1 THEN 0.1 WHEN 2 THEN 1e300 WHEN 3 THEN 5e-324 ELSE g / 3.0 END)::float8,
    CASE WHEN g % 8 = 0 THEN NULL ELSE 12345678901234.5678 - g END,
    CASE WHEN g % 9 = 0 THEN NULL ELSE ('1234567890123456789012345678.' || lpad(g::text, 10, '0'))::numeric END,
    CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
    'label ' || g || CASE WHEN g % 10 = 0 THEN ' with | pipe, "quotes", 1:x and ünïcødé ✓' ELSE '' END,
    {region_value}
    (ARRAY['calm', 'busy', 'on fire', NULL])[1 + g % 4]::public.all_types_mood,
    CASE WHEN g % 7 = 0 THEN NULL ELSE md5(g::text)::uuid END,
    CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('n', g, 'name', 'x' || g,
        'nested', jsonb_build_array(1, 2.50, 'three', NULL), 'big', 12345678901234567890) END,
    CASE WHEN g % 5 = 1 THEN NULL ELSE ('{{{{ "b" : 1,  "a": [1.0, 2e3], "g": ' || g || ' }}}}')::json END,
    CASE WHEN g % 4 = 0 THEN NULL ELSE decode(md5(g::text) || '00ff', 'hex') END,
    CASE WHEN g % 6 = 0 THEN NULL ELSE DATE '1960-02-29' + g * 97 END,
    CASE WHEN g % 6 = 1 THEN NULL ELSE TIME '00:00:00' + g * INTERVAL '4 minutes 1.123457 seconds' END,
    CASE WHEN g % 6 = 2 THEN NULL ELSE TIMESTAMP '1969-12-31 23:59:59.999999' + g * INTERVAL '13 days 1.000001 seconds' END,
    TIMESTAMP '2024-02-29 12:00:00.123' + g * INTERVAL '1.001 seconds',
    CASE WHEN g % 6 = 3 THEN NULL ELSE TIMESTAMPTZ '2024-03-31 01:30:00.654321+02' + g * INTERVAL '1 hour 0.000007 seconds' END,
    -- 300 MD5s: ~9.6 kB of text that compresses to well over PostgreSQL's ~2 kB TOAST threshold
    CASE WHEN g % 2 = 0 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 300) AS i)
         ELSE 'small ' || g END
FROM generate_series({{first}}, {{last}}) AS g
"""
# The snapshot's rows omit region, so its DEFAULT ('eu') applies; the streamed ones set an explicit
# NULL or 'us'. Each is then formatted with its range of g.
WITH_DEFAULT = INSERT.format(region_column="", region_value="")
WITH_REGION = INSERT.format(region_column="region,", region_value="CASE WHEN g % 3 = 0 THEN 'us' ELSE NULL END,")

CHANGES = [
    # Updates of small columns that leave the large TOASTed text untouched.
    "UPDATE public.all_types SET small_n = small_n / 2 WHERE id % 3 = 0",
    "UPDATE public.all_types SET amount = amount * 3 + 0.0001 WHERE id % 5 = 0",
    # Values to NULL and NULLs to values.
    "UPDATE public.all_types SET region = NULL, doc = NULL, blob = NULL, seen_at_tz = NULL WHERE id % 11 = 0",
    "UPDATE public.all_types SET int_n = -1, uid = gen_random_uuid(), real_n = -0.0 WHERE int_n IS NULL",
    "DELETE FROM public.all_types WHERE id % 7 = 0",
]


def source_rows(cfg) -> dict[int, tuple]:
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        return {row[0]: row for row in pg.execute(f"SELECT {SOURCE_SELECT} FROM public.all_types")}


def view_rows(cfg) -> dict[int, tuple]:
    return {row[0]: row for row in query(cfg, f"SELECT {', '.join(COLUMNS)} FROM {STREAM.view}")}


def column_differences(source: dict[int, tuple], view: dict[int, tuple]) -> dict[str, list]:
    """Per column, the (key, source value, view value) that differ, over the keys both hold."""
    found: dict[str, list] = {c: [] for c in COLUMNS}
    for key in source.keys() & view.keys():
        for column, left, right in zip(COLUMNS, source[key], view[key]):
            if left != right or type(left) is bool and type(right) is not bool:
                found[column].append((key, left, right))
    return found


@pytest.fixture
def all_types_stream(bootstrapped):
    cfg = bootstrapped
    STREAM.remove(cfg, drop_types=(ENUM,))  # what an interrupted run may have left
    yield cfg
    STREAM.remove(cfg, drop_types=(ENUM,))


def test_every_value_of_every_type_arrives_exactly_and_data_quality_names_a_corrupted_one(
        all_types_stream, value_report):
    cfg = all_types_stream
    STREAM.copy_in()
    STREAM.apply_ddl(cfg)
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        # The columns the unit test generates the stream's files from are the live table's.
        live = postgres_tables.columns(lambda sql, params: pg.execute(sql, params).fetchall(), STREAM.source_table)
        assert [(c.name, c.type, c.nullable) for c in live] == ALL_TYPES_COLUMNS
        pg.execute(WITH_DEFAULT.format(first=1, last=150))
    bootstrap = run_bootstrap(cfg)
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:  # streamed, not snapshotted
        pg.execute(WITH_REGION.format(first=151, last=300))
        toasted = pg.execute("SELECT count(*) FROM public.all_types WHERE id % 3 = 0 AND length(big_text) > 9000"
                             ).fetchone()[0]
        for change in CHANGES:
            pg.execute(change)
        nulls_over_default = pg.execute("SELECT count(*) FROM public.all_types WHERE region IS NULL").fetchone()[0]
    assert toasted > 0 and nulls_over_default > 0

    expected = source_rows(cfg)
    assert len(expected) == 300 - 300 // 7
    started = time.monotonic()
    wait("the view holds every key of the table", lambda: view_rows(cfg).keys() == expected.keys(), 240)
    # Keys first, then values: the last updates may still be on their way for a moment.
    differences: dict[str, list] = {}

    def values_equal() -> bool:
        differences.update(column_differences(expected, view_rows(cfg)))
        return not any(differences.values())

    try:
        wait("every value equal", values_equal, 60)
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}: {({c: d[:3] for c, d in differences.items() if d})}") from None
    for column in COLUMNS:
        nulls = sum(1 for row in expected.values() if row[COLUMNS.index(column)] is None)
        value_report.append((column, len(expected), len(differences[column]), nulls))
    assert not any(differences.values()), {c: d[:3] for c, d in differences.items() if d}
    print(f"all {len(expected)} rows equal, every column, {time.monotonic() - started:.0f}s after the last write")

    # data_quality's content reconciliation agrees, over every column the view shares with the table.
    check = ViewCheck(STREAM.name, STREAM.source_table, STREAM.view, ("id",))
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        sides = sql_sides(fetch_source=lambda sql, params: pg.execute(sql, params or None).fetchall(),
                          fetch_target=lambda sql, params: query(cfg, sql))
        [result] = run_checks("2026-12-04", *sides, checks=[check], attempts=1)
        assert result.ok and result.differing == 0, result.describe()
        assert set(result.columns) == set(COLUMNS) - {"id"}, result.columns

        # One value corrupted on purpose: a crafted change event for one key, straight to the topic.
        key = min(k for k in expected if k % 2 == 0)
        corrupt_label(cfg, key, "tampered")
        wait("the crafted event reached the view", lambda: query(
            cfg, f"SELECT label FROM {STREAM.view} WHERE id = {key}") == [("tampered",)], 60)
        sides = sql_sides(fetch_source=lambda sql, params: pg.execute(sql, params or None).fetchall(),
                          fetch_target=lambda sql, params: query(cfg, sql))
        with pytest.raises(DataQualityError) as failure:
            run_checks("2026-12-04", *sides, checks=[check], attempts=1)
    message = str(failure.value)
    print("data_quality on the corrupted value:", message)
    assert f"key {key} column label: postgres 'label {key}', trino 'tampered'" in message, message
    assert "1 rows with other values" in message, message


def corrupt_label(cfg, key: int, label: str) -> None:
    """Produces the last change event of `key` again, with another label and a later LSN, so Pinot's
    upsert takes it: what a wrong transform or a broken producer could do to one value."""
    last, max_lsn = None, 0
    for message in read_topic(cfg, STREAM.name):
        if message.value() is None:
            continue
        event = json.loads(message.value())["payload"]
        max_lsn = max(max_lsn, int(json.loads(event["source"]["sequence"])[1]))
        if message.key() == str(key).encode():
            last = event
    assert last and last["after"], f"no change event of key {key} on the topic"
    last["after"]["label"] = label
    last["source"]["lsn"] = max_lsn + 1  # the upsert compares the sequence's LSN (stream_files.LSN_TRANSFORM)
    last["source"]["sequence"] = json.dumps([None, str(max_lsn + 1)])
    # librdkafka's murmur2 partitioner is the Java client's default: the key's partition, as Connect's.
    producer = Producer({"bootstrap.servers": cfg.kafka_bootstrap, "partitioner": "murmur2_random"})
    producer.produce(STREAM.name, key=str(key).encode(), value=json.dumps({"payload": last}).encode())
    assert producer.flush(30) == 0

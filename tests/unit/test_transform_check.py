"""Bootstrap's transform check (realtime_platform/transform_check.py) with Pinot's own classes: the
repository's tables ingest their sample events; the trial's `= 'true'` mistake is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from realtime_platform.column_types import PostgresColumn
from realtime_platform.config import REPO_ROOT, settings
from realtime_platform.local.jvm import find_java_home
from realtime_platform.local.paths import state_paths
from realtime_platform import transform_check
from realtime_platform.transform_check import Finding, first_per_column, parse, run_checker, sample_events

ORDERS = [PostgresColumn("order_id", "bigint", False), PostgresColumn("customer_id", "bigint", False),
          PostgresColumn("status", "text", False), PostgresColumn("channel", "text", False),
          PostgresColumn("country", "text", False), PostgresColumn("amount", "numeric(12,2)", False),
          PostgresColumn("created_at", "timestamp without time zone", False),
          PostgresColumn("updated_at", "timestamp without time zone", False)]


def pinot_lib():
    cfg = settings()
    lib = state_paths(cfg).dist / f"pinot-{cfg.versions.pinot}" / "lib"
    if not lib.is_dir():
        pytest.fail(f"{lib} is missing: `make install` (make test does) fetches Pinot's jars")
    return lib


def test_sample_events_are_debezium_envelopes_of_one_row():
    events = sample_events(ORDERS + [PostgresColumn("note", "text", True)])
    assert set(events) == {"insert", "insert with NULLs", "update", "delete"}
    insert = events["insert"]["payload"]
    assert insert["op"] == "c" and insert["before"] is None
    assert insert["after"]["amount"] == "1.00" and insert["after"]["created_at"] == 1704110400123456
    assert events["insert with NULLs"]["payload"]["after"]["note"] is None
    assert events["insert with NULLs"]["payload"]["after"]["status"] == "text"  # NOT NULL keeps a value
    assert events["delete"]["payload"]["after"] is None and events["delete"]["payload"]["before"]["order_id"] == 7


def test_one_line_per_failing_column():
    failing = [Finding("FAIL", "insert", "active", "f", "e1"), Finding("FAIL", "insert", "*", "ingestion", "e1"),
               Finding("FAIL", "delete", "active", "f", "e2")]
    assert first_per_column(failing) == [failing[0]]
    dropped = [Finding("DROPPED", "insert", "-", "filter", "-")]
    assert first_per_column(dropped) == dropped


def test_the_checkers_output_is_read_per_table():
    output = ("TABLE\t/a.json\nOK\tinsert\nTABLE\t/b.json\n"
              "FAIL\tinsert\tactive\tx = 'true'\tNumberFormatException: For input string: \"true\"\n")
    assert parse(output) == {"/a.json": [], "/b.json": [
        Finding("FAIL", "insert", "active", "x = 'true'", 'NumberFormatException: For input string: "true"')]}


@pytest.mark.slow  # starts Pinot's ingestion code in a JVM
def test_pinot_ingests_the_orders_samples_and_names_a_throwing_transform(tmp_path):
    folder = REPO_ROOT / "pinot" / "tables" / "002-orders"
    good_table, schema = folder / "orders_table.json", folder / "orders_schema.json"
    bad = json.loads(good_table.read_text())
    bad["ingestionConfig"]["transformConfigs"].append(
        {"columnName": "paid", "transformFunction": "jsonPathString(payload, '$.after.status', '') = 'true'"})
    bad_schema = json.loads(schema.read_text())
    bad_schema["dimensionFieldSpecs"].append({"name": "paid", "dataType": "BOOLEAN"})
    (tmp_path / "bad_table.json").write_text(json.dumps(bad))
    (tmp_path / "bad_schema.json").write_text(json.dumps(bad_schema))
    shutil.copy(good_table, tmp_path / "good_table.json")
    java = find_java_home(minimum=17) / "bin" / "java"
    # A message that is no change event (tests/live/test_bad_cdc_input.py) is dropped by the table's
    # filter, not an ingestion error: status reports errors as rows being lost.
    poison = {"no payload": {"schema": {}, "no_payload": True}}
    found = run_checker(java, pinot_lib(), [
        (tmp_path / "good_table.json", schema, {**sample_events(ORDERS), **poison}),
        (tmp_path / "bad_table.json", tmp_path / "bad_schema.json", sample_events(ORDERS))])
    assert [(f.kind, f.event) for f in found[str(tmp_path / "good_table.json")]] == [("DROPPED", "no payload")]
    failures = found[str(tmp_path / "bad_table.json")]
    assert {(f.kind, f.event, f.column) for f in failures} >= {("FAIL", "insert", "paid"), ("FAIL", "delete", "paid")}
    message = failures[0].describe("pinot/tables/002-orders/orders_table.json")
    assert message.startswith("pinot/tables/002-orders/orders_table.json: column paid: "
                              "jsonPathString(payload, '$.after.status', '') = 'true' fails on a sample insert event: "
                              "NumberFormatException"), message


def test_two_compiles_at_once_leave_one_complete_folder(tmp_path, monkeypatch):
    """The second process to finish finds the first one's folder in place: it keeps that one and
    leaves no scratch folder behind (the old fixed `.partial` name had them rename each other's)."""
    import subprocess as sp

    pinot_lib = tmp_path / "pinot" / "lib"
    pinot_lib.mkdir(parents=True)
    digest_folder = {}

    def compile_while_another_finishes(command, **kwargs):
        out = Path(command[command.index("-d") + 1])
        (out / "TransformCheck.class").parent.mkdir(parents=True, exist_ok=True)
        (out / "TransformCheck.class").write_text("mine")
        target = out.parent / out.name.split(".")[0]  # the other process renamed its folder first
        target.mkdir()
        (target / "TransformCheck.class").write_text("theirs")
        digest_folder["path"] = target
        return sp.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(transform_check.subprocess, "run", compile_while_another_finishes)
    classes = transform_check.compiled_checker(Path("java"), pinot_lib)
    assert classes == digest_folder["path"]
    assert (classes / "TransformCheck.class").read_text() == "theirs"
    assert [p.name for p in classes.parent.iterdir()] == [classes.name]

"""The stream model (realtime_platform/stream_config.py): the repository's streams load as one model,
what bootstrap posts is rendered from it, and hand-written Pinot files are checked against the
columns of their source table."""

from __future__ import annotations

import json
import shutil

import pytest

from realtime_platform import stream_config
from realtime_platform.column_types import CONNECTOR_SETTINGS, PostgresColumn
from tests.conftest import REPO

# public.orders as postgres_tables.columns reads it (postgres/init/101-orders.sql).
ORDERS_COLUMNS = [
    PostgresColumn("order_id", "bigint", False), PostgresColumn("customer_id", "bigint", False),
    PostgresColumn("status", "text", False), PostgresColumn("channel", "text", False),
    PostgresColumn("country", "text", False), PostgresColumn("amount", "numeric(12,2)", False),
    PostgresColumn("created_at", "timestamp without time zone", False),
    PostgresColumn("updated_at", "timestamp without time zone", False),
]


@pytest.fixture
def configs(tmp_path):
    shutil.copytree(REPO / "debezium", tmp_path / "debezium")
    shutil.copytree(REPO / "pinot" / "tables", tmp_path / "pinot")
    return tmp_path


def load(configs) -> stream_config.StreamSet:
    return stream_config.load(configs / "debezium", configs / "pinot", REPO / "dags" / "sql" / "views")


def test_the_repository_loads_as_one_model_joined_by_topic():
    streams = stream_config.load()
    assert not streams.problems, streams.problems
    orders = streams.stream("orders")
    assert orders.connector.name == "orders" and orders.source_table == "public.orders"
    assert orders.manifest.key == ["order_id"] and orders.schema.primaryKeyColumns == ["order_id"]
    assert streams.stream("person").source_table == "public.person"


def test_a_connector_is_its_own_keys_over_the_shared_ones():
    shared = json.loads((REPO / "debezium" / "shared" / "postgres.json").read_text())["config"]
    own = json.loads((REPO / "debezium" / "orders.json").read_text())["config"]
    config = stream_config.load_connector(REPO / "debezium" / "orders.json").config
    assert config == {**shared, **own}
    assert config["transforms"] == "route,key,payload" != shared["transforms"]
    assert len(own) < len(shared), "a stream's own file keeps only what is its own"


def test_a_connector_without_the_exact_value_settings_is_refused(configs):
    shared = configs / "debezium" / "shared" / "postgres.json"
    data = json.loads(shared.read_text())
    data["config"]["decimal.handling.mode"] = "double"
    shared.write_text(json.dumps(data))
    problems = [str(p) for p in load(configs).problems if "values would not arrive" in p.message]
    assert len(problems) == 2, problems  # both connectors inherit it
    assert "orders.json: values would not arrive exactly without decimal.handling.mode=string (is: double)" \
        in "\n".join(problems)
    assert set(CONNECTOR_SETTINGS) >= {"decimal.handling.mode"}


def test_every_problem_is_collected_with_its_file(configs):
    (configs / "debezium" / "person.json").write_text("{")
    (schema,) = (configs / "pinot").glob("*orders*/*_schema.json")
    data = json.loads(schema.read_text())
    data["primaryKeyColumns"] = ["nope"]
    schema.write_text(json.dumps(data))
    problems = {p.file: p.message for p in load(configs).problems}
    assert problems[str(configs / "debezium" / "person.json")].startswith("malformed JSON")
    assert problems[str(schema)] == "primary key column(s) not in the schema: nope"


def test_render_writes_what_bootstrap_posts(configs, tmp_path):
    out = tmp_path / "rendered"
    stream_config.render(load(configs), out, kafka_brokers="kafka:9092", replicas=2)
    connector = json.loads((out / "connectors" / "orders.json").read_text())
    assert connector["name"] == "orders" and connector["heartbeat.interval.ms"] == "5000"
    table = json.loads((out / "pinot" / "002-orders" / "orders_table.json").read_text())
    assert table["tableIndexConfig"]["streamConfigs"]["stream.kafka.broker.list"] == "kafka:9092"
    assert table["segmentsConfig"]["replicasPerPartition"] == "2"
    assert table["instanceAssignmentConfigMap"]["CONSUMING"]["replicaGroupPartitionConfig"]["numReplicaGroups"] == 2
    sources = (out / "sources.tsv").read_text().splitlines()
    assert [line.split("\t")[1].endswith("_table.json") for line in sources] == [True, True]


def test_render_refuses_an_invalid_set(configs, tmp_path):
    (configs / "debezium" / "person.json").write_text("{")
    with pytest.raises(stream_config.ConfigProblems, match="person.json: malformed JSON"):
        stream_config.render(load(configs), tmp_path / "out", "k:9092", 1)
    assert not (tmp_path / "out").exists()


def orders_with(configs, column: str, data_type: str | None = None, transform: str | None = None,
                **field) -> stream_config.Stream:
    folder = configs / "pinot" / "002-orders"
    schema, table = json.loads((folder / "orders_schema.json").read_text()), \
        json.loads((folder / "orders_table.json").read_text())
    for spec in schema["dimensionFieldSpecs"]:
        if spec["name"] == column:
            spec.update({"dataType": data_type or spec["dataType"], **field})
    for spec in table["ingestionConfig"]["transformConfigs"]:
        if spec["columnName"] == column and transform:
            spec["transformFunction"] = transform
    (folder / "orders_schema.json").write_text(json.dumps(schema))
    (folder / "orders_table.json").write_text(json.dumps(table))
    return stream_config.load_stream(folder, [])


def test_the_repository_tables_fit_their_source_columns():
    streams = stream_config.load()
    assert stream_config.source_fit(streams.stream("orders"), ORDERS_COLUMNS) == []


def test_a_hand_written_transform_that_does_not_fit_its_column_is_named_with_both_types(configs):
    stream = orders_with(configs, "created_at", "LONG", "jsonPathLong(payload, '$.after.created_at', 0)")
    assert stream_config.source_fit(stream, ORDERS_COLUMNS) == []  # NOT NULL: a typed reader loses nothing
    tz = [*ORDERS_COLUMNS[:6], PostgresColumn("created_at", "timestamp with time zone", False), ORDERS_COLUMNS[7]]
    assert stream_config.source_fit(stream, tz) == [
        "column created_at: Pinot LONG with jsonPathLong(payload, '$.after.created_at', 0) does not fit "
        "PostgreSQL timestamp with time zone: expected STRING with jsonPath(payload, '$.after.created_at')"]


@pytest.mark.parametrize("change, message", [
    (dict(column="status", transform="jsonPathString(payload, '$.after.status', '')"),
     "column status: Pinot STRING with jsonPathString(payload, '$.after.status', '') does not fit PostgreSQL "
     "text (a typed jsonPath… turns NULL into its default)"),
    (dict(column="status", transform="jsonPath(payload, '$.after.channel')"),
     "column status: Pinot STRING with jsonPath(payload, '$.after.channel') does not fit PostgreSQL text"),
    (dict(column="amount", data_type="DOUBLE"),
     "column amount: Pinot DOUBLE with jsonPath(payload, '$.after.amount') does not fit PostgreSQL numeric(12,2)"),
    (dict(column="country", maxLength=512),
     "column country: STRING without \"maxLength\": 1073741823 would cut PostgreSQL text values at 512"),
    (dict(column="order_id", data_type="STRING"),
     "key column order_id: Pinot STRING with"),
])
def test_what_would_lose_values_is_refused(configs, change, message):
    stream = orders_with(configs, **change)
    nullable = [PostgresColumn(c.name, c.type, c.name == "status", c.enum) for c in ORDERS_COLUMNS]
    found = stream_config.source_fit(stream, nullable)
    assert len(found) == 1 and found[0].startswith(message), found


def test_the_generated_table_config_is_the_one_orders_runs_with():
    from realtime_platform.stream_files import table_config

    assert table_config("orders", ["order_id"], ORDERS_COLUMNS) == json.loads(
        (REPO / "pinot" / "tables" / "002-orders" / "orders_table.json").read_text())


def test_generated_files_load_as_a_valid_stream_and_fit_their_table(tmp_path):
    from realtime_platform.stream_files import stream_files

    repo = tmp_path / "repo"
    shutil.copytree(REPO / "debezium", repo / "debezium")
    shutil.copytree(REPO / "pinot" / "tables", repo / "pinot" / "tables")
    shutil.copytree(REPO / "dags" / "sql" / "views", repo / "dags" / "sql" / "views")
    (repo / "postgres" / "init").mkdir(parents=True)
    for path in (REPO / "postgres" / "init").glob("*.sql"):
        shutil.copy(path, repo / "postgres" / "init")
    columns = [PostgresColumn("id", "bigint", False), PostgresColumn("total", "numeric(12,2)"),
               PostgresColumn("at", "timestamp with time zone"), PostgresColumn("mood", "public.mood", True, True)]
    files = stream_files(repo, "sales", "public.sales", columns, ["id"], "CREATE TABLE IF NOT EXISTS public.sales ();\n")
    assert sorted(map(str, files)) == ["dags/sql/views/sales.sql", "dags/sql/views/sales.yml", "debezium/sales.json",
                                       "pinot/tables/003-sales/sales_schema.json",
                                       "pinot/tables/003-sales/sales_table.json", "postgres/init/102-sales.sql"]
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    streams = stream_config.load(repo / "debezium", repo / "pinot" / "tables", repo / "dags" / "sql" / "views")
    assert not streams.problems, streams.problems
    sales = streams.stream("sales")
    assert sales.source_table == "public.sales" and sales.manifest.key == ["id"]
    assert stream_config.source_fit(sales, columns) == []
    assert "\\ir lib/cdc-source.psql" in files[next(p for p in files if p.parts[0] == "postgres")]


def test_a_table_without_a_key_or_with_a_type_it_cannot_carry_is_refused(tmp_path):
    from realtime_platform.column_types import UnsupportedColumn
    from realtime_platform.stream_files import stream_files

    with pytest.raises(ValueError, match="public.t has no primary key"):
        stream_files(tmp_path, "t", "public.t", [PostgresColumn("a", "integer")], [], "")
    with pytest.raises(UnsupportedColumn, match=r"(?s)column 'tags'.*text\[\].*column 'span'.*interval"):
        stream_files(tmp_path, "t", "public.t", [PostgresColumn("id", "bigint", False), PostgresColumn("tags", "text[]"),
                                                  PostgresColumn("span", "interval")], ["id"], "")


def orders_files():
    folder = REPO / "pinot" / "tables" / "002-orders"
    return json.loads((folder / "orders_schema.json").read_text()), json.loads((folder / "orders_table.json").read_text())


def test_sync_plans_an_added_column_into_schema_table_and_view():
    from realtime_platform.stream_files import plan_sync, synced_schema, synced_table

    schema, table = orders_files()
    columns = [*ORDERS_COLUMNS, PostgresColumn("priority", "integer", False), PostgresColumn("note", "text")]
    plan = plan_sync("orders", schema, table, columns, ["order_id"])
    assert [c.name for c in plan.added] == ["priority", "note"] and not plan.dropped and not plan.refused
    fields = [f["name"] for f in synced_schema(schema, plan)["dimensionFieldSpecs"]]
    assert fields[-5:] == ["priority", "note", "op", "deleted", "lsn"]
    transforms = {t["columnName"]: t["transformFunction"] for t in synced_table(table, plan)["ingestionConfig"]
                  ["transformConfigs"]}
    assert transforms["note"] == "jsonPath(payload, '$.after.note')"
    assert plan_sync("orders", synced_schema(schema, plan), synced_table(table, plan), columns, ["order_id"]).changes \
        is False


def test_sync_leaves_a_dropped_column_in_pinot_and_refuses_what_pinot_cannot_change():
    from realtime_platform.stream_files import plan_sync

    schema, table = orders_files()
    without_channel = [c for c in ORDERS_COLUMNS if c.name != "channel"]
    plan = plan_sync("orders", schema, table, without_channel, ["order_id"])
    assert plan.dropped == ["channel"] and not plan.refused
    assert plan_sync("orders", schema, table, without_channel, ["order_id"], ["channel"]).refused == [
        "column channel was dropped from the table, but the stream's key or manifest (summarize, source_filter) "
        "names it: change those first"]
    widened = [PostgresColumn(c.name, "numeric(14,2)", False) if c.name == "amount" else c for c in ORDERS_COLUMNS]
    assert not plan_sync("orders", schema, table, widened, ["order_id"]).changes  # still STRING: the view only
    retyped = [PostgresColumn(c.name, "bigint", False) if c.name == "status" else c for c in ORDERS_COLUMNS]
    [refused] = plan_sync("orders", schema, table, retyped, ["order_id"]).refused
    assert refused.startswith("column status (bigint, NOT NULL) now needs Pinot LONG"), refused
    assert "re-create the stream" in refused


def test_generated_json_reads_one_entry_per_line_and_parses_back():
    from realtime_platform.stream_files import dump_json, table_config

    config = table_config("orders", ["order_id"], ORDERS_COLUMNS)
    text = dump_json(config)
    assert json.loads(text) == config
    lines = text.splitlines()
    transforms = [line for line in lines if '"columnName": ' in line]
    assert len(transforms) >= 8, "short transforms sit on one line each"
    long = [line for line in lines if len(line) > 110]
    assert all("{" not in line and "[" not in line.split(": ", 1)[0] for line in long), long  # one long value

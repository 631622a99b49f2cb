"""The local services: how each is prepared, started and probed.

Each `Service` becomes one supervisord program. `prepare_*` functions do the one-time work a
service needs before its first start (initdb, Kafka storage format) and render its config files
from the templates in local/conf (realtime_platform.conf_templates; compose renders the same ones).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from realtime_platform.conf_templates import TEMPLATES, render, render_service
from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import health, warehouse
from realtime_platform.local.install import jmx_exporter_agent, s3proxy_jar
from realtime_platform.local.jvm import find_java_home
from realtime_platform.local.paths import StatePaths

POSTGRES_OS_USER = "postgres"  # PostgreSQL refuses to run as root.


@dataclass
class Service:
    name: str
    command: list[str]
    health: health.HealthCheck
    stage: int  # services of one stage start together, after every earlier stage is healthy
    start_timeout_s: int = 120
    user: str | None = None
    directory: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    # one-time work once the service answers (idempotent: runs at every `up`)
    on_healthy: Callable[[], object] | None = None


def _template_values(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    values = {key.upper(): str(value) for key, value in cfg.model_dump().items()
              if isinstance(value, (int, str, Path))}
    values.update(cfg.service_environment())
    values.update(BIND_HOST=cfg.bind_host, STATE_DIR=str(paths.root), REPO_ROOT=str(REPO_ROOT))
    # Every service listens on, and registers, the bind host (compose: 0.0.0.0 and service names).
    values.update(LISTEN_HOST=cfg.bind_host, CONNECT_HOST=cfg.bind_host, TRINO_HOST=cfg.bind_host,
                  ZOOKEEPER_HOST=cfg.bind_host, PINOT_CONTROLLER_HOST=cfg.bind_host,
                  PINOT_BROKER_HOST=cfg.bind_host, PINOT_SERVER_HOST=cfg.bind_host)
    return values


# --- PostgreSQL ---------------------------------------------------------------------------------

def pg_bin() -> Path:
    """The server binaries shipped by the `pgserver` wheel (found without importing it)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("the pgserver package is not installed; run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True)
        return pwd.getpwnam(name)


def _grant_traverse(path: Path) -> None:
    """The postgres user must reach the binaries and its data dir: add o+x on parent folders."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            print(f"  granting o+x on {parent} so the postgres user can reach {path}")
            parent.chmod(mode | 0o001)


def prepare_postgres(cfg: PlatformSettings, paths: StatePaths) -> None:
    data = paths.data / "postgres"
    sockets = paths.run / "postgres"
    user = _ensure_os_user(POSTGRES_OS_USER)
    for folder in (data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
    data.chmod(0o700)
    _grant_traverse(pg_bin())
    _grant_traverse(data.parent)
    if (data / "PG_VERSION").exists():
        return
    print("  initdb (first start)")
    pwfile = sockets / "initdb.pw"
    pwfile.write_text(cfg.postgres_password.get_secret_value())
    os.chown(pwfile, user.pw_uid, user.pw_gid)
    pwfile.chmod(0o600)
    try:
        subprocess.run(["runuser", "-u", POSTGRES_OS_USER, "--", str(pg_bin() / "initdb"),
                        "-D", str(data), "-U", cfg.postgres_user, f"--pwfile={pwfile}",
                        "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8",
                        "--locale=C"], check=True, stdout=subprocess.DEVNULL)
    finally:
        pwfile.unlink(missing_ok=True)


def postgres_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    settings = {
        "listen_addresses": cfg.bind_host,
        "port": cfg.postgres_port,
        "unix_socket_directories": paths.run / "postgres",
        "wal_level": "logical",  # Debezium reads the WAL through pgoutput
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        "shared_buffers": "256MB",
        "max_connections": 200,  # Airflow and Superset share this server
    }
    command = [str(pg_bin() / "postgres"), "-D", str(paths.data / "postgres")]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    # The port opens while the server still replays WAL ("the database system is starting up");
    # pg_isready only passes once it accepts connections.
    ready = health.command(f"pg_isready -h {cfg.bind_host} -p {cfg.postgres_port}",
                           [str(pg_bin() / "pg_isready"), "-q", "-h", cfg.bind_host,
                            "-p", str(cfg.postgres_port)])
    return Service("postgres", command, ready, stage=0,
                   user=POSTGRES_OS_USER, start_timeout_s=60, on_healthy=lambda: run_postgres_init(cfg))


def run_postgres_init(cfg: PlatformSettings) -> None:
    """Applies postgres/init/*.sql (idempotent) with psql, as compose's image does at first start."""
    env = {**os.environ, "PGPASSWORD": cfg.postgres_password.get_secret_value(),
           "PGOPTIONS": "-c client_min_messages=warning",
           **cfg.service_environment()}
    scripts = sorted((REPO_ROOT / "postgres" / "init").glob("*.sql"))
    for script in scripts:
        database = "postgres" if script.name.startswith("001-") else cfg.postgres_db
        subprocess.run([str(pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-v", f"dbname={cfg.postgres_db}", "-h", cfg.bind_host,
                        "-p", str(cfg.postgres_port), "-U", cfg.postgres_user, "-d", database,
                        "-f", str(script)], check=True, env=env)


# --- Kafka and Kafka Connect ---------------------------------------------------------------------

def _kafka_lib(cfg: PlatformSettings, paths: StatePaths) -> str:
    return str(paths.dist / f"kafka-{cfg.kafka_version}" / "lib" / "*")


def _java17(cfg: PlatformSettings) -> str:
    return str(find_java_home(minimum=17) / "bin" / "java")


def prepare_kafka(cfg: PlatformSettings, paths: StatePaths) -> None:
    values = {**_template_values(cfg, paths), "DATA_DIR": str(paths.data / "kafka")}
    conf = render(TEMPLATES / "kafka" / "server.properties", paths.conf / "kafka" / "server.properties",
                  values)
    if (paths.data / "kafka" / "meta.properties").exists():
        return
    print("  formatting Kafka's KRaft storage (first start)")
    subprocess.run([_java17(cfg), "-cp", _kafka_lib(cfg, paths), *_log4j_flags(),
                    "kafka.tools.StorageTool", "format", "--standalone",
                    "--cluster-id", uuid.uuid4().hex[:22], "--config", str(conf)],
                   check=True, stdout=subprocess.DEVNULL)


def _log4j_flags() -> list[str]:
    return [f"-Dlog4j2.configurationFile={TEMPLATES / 'log4j2.properties'}"]


def _metrics_agent(cfg: PlatformSettings, port: int, service: str) -> str:
    """The Prometheus JMX exporter as a java agent: the JVM's chosen MBeans over HTTP at port."""
    return f"-javaagent:{jmx_exporter_agent(cfg)}={cfg.bind_host}:{port}:{TEMPLATES / service / 'jmx-exporter.yaml'}"


def kafka_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [_java17(cfg), f"-Xms{cfg.kafka_heap}", f"-Xmx{cfg.kafka_heap}", "-XX:+UseG1GC",
               *_log4j_flags(), _metrics_agent(cfg, cfg.kafka_metrics_port, "kafka"), "-cp", _kafka_lib(cfg, paths), "kafka.Kafka",
               str(paths.conf / "kafka" / "server.properties")]
    return Service("kafka", command, health.tcp(cfg.bind_host, cfg.kafka_port), stage=0)


def _connect_conf_root(paths: StatePaths, name: str) -> Path:
    """Where a worker's rendered config lives: the first worker's in conf/connect."""
    return paths.conf if name == "connect" else paths.conf / name


def render_connect_worker(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> None:
    plugin_path = paths.dist / f"connect-plugins-debezium-{cfg.debezium_version}"
    render_service("connect", _connect_conf_root(paths, name),
                   {**_template_values(cfg, paths), "PLUGIN_PATH": str(plugin_path), "CONNECT_PORT": str(port)})


def prepare_connect(cfg: PlatformSettings, paths: StatePaths) -> None:
    render_connect_worker(cfg, paths, "connect", cfg.connect_port)


def connect_worker(cfg: PlatformSettings, paths: StatePaths, name: str, port: int, metrics_port: int) -> Service:
    """A Kafka Connect worker in distributed mode; workers of one group share the config topics."""
    conf = _connect_conf_root(paths, name) / "connect" / "connect-distributed.properties"
    command = [_java17(cfg), "-Xms256m", f"-Xmx{cfg.connect_heap}", *_log4j_flags(),
               _metrics_agent(cfg, metrics_port, "connect"), "-cp", _kafka_lib(cfg, paths),
               "org.apache.kafka.connect.cli.ConnectDistributed", str(conf)]
    return Service(name, command, health.http(f"http://{cfg.bind_host}:{port}/connectors"), stage=1,
                   start_timeout_s=180)


def connect_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return connect_worker(cfg, paths, "connect", cfg.connect_port, cfg.connect_metrics_port)


# --- S3Proxy (local stand-in for S3; the hive catalog's file metastore lives in it too) ------------

def object_store_dir(paths: StatePaths) -> Path:
    """Where S3Proxy keeps the buckets: one folder per bucket, one file per object."""
    return paths.data / "s3"


def prepare_object_store(cfg: PlatformSettings, paths: StatePaths) -> None:
    object_store_dir(paths).mkdir(parents=True, exist_ok=True)
    conf = paths.conf / "s3proxy" / "s3proxy.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.touch(mode=0o600)
    render(TEMPLATES / "s3proxy" / "s3proxy.conf", conf,
           {**_template_values(cfg, paths), "OBJECT_STORE_DIR": str(object_store_dir(paths)),
            "AWS_ACCESS_KEY_ID": cfg.aws_access_key_id.get_secret_value(),
            "AWS_SECRET_ACCESS_KEY": cfg.aws_secret_access_key.get_secret_value()})
    conf.chmod(0o600)


def object_store_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [_java17(cfg), "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-jar", str(s3proxy_jar(cfg)),
               "--properties", str(paths.conf / "s3proxy" / "s3proxy.conf")]
    return Service("object-store", command, warehouse.object_store_health(cfg), stage=0,
                   start_timeout_s=60, on_healthy=lambda: warehouse.ensure_warehouse(cfg, paths))


# --- Pinot ----------------------------------------------------------------------------------------

PINOT_JVM_OPENS = [f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
                   for pkg in ("java.nio", "sun.nio.ch", "java.lang", "java.util", "java.lang.reflect")]
PINOT_CLUSTER = "PinotCluster"


def _pinot_values(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    return {**_template_values(cfg, paths), "PINOT_DATA_DIR": str(paths.data / "pinot"),
            "PINOT_SERVER_NETTY_PORT": str(cfg.pinot_server_port),
            "PINOT_SERVER_DIR": str(paths.data / "pinot" / "server")}


def _pinot_java(cfg: PlatformSettings, paths: StatePaths) -> list[str]:
    lib = paths.dist / f"pinot-{cfg.pinot_version}" / "lib" / "*"
    return [_java17(cfg), f"-Dlog4j2.configurationFile={TEMPLATES / 'pinot' / 'log4j2.xml'}",
            f"-Djava.io.tmpdir={paths.data / 'pinot' / 'tmp'}", "-cp", str(lib)]


def prepare_pinot(cfg: PlatformSettings, paths: StatePaths) -> None:
    values = _pinot_values(cfg, paths)
    (paths.data / "pinot" / "tmp").mkdir(parents=True, exist_ok=True)
    render_service("pinot", paths.conf, values)


def zookeeper_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [*_pinot_java(cfg, paths)[:1], "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
               *_pinot_java(cfg, paths)[1:], "org.apache.zookeeper.server.ZooKeeperServerMain",
               str(paths.conf / "pinot" / "zookeeper.cfg")]
    return Service("pinot-zookeeper", command, health.zookeeper(cfg.bind_host, cfg.zookeeper_port),
                   stage=0, start_timeout_s=60)


def pinot_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    """Controller, broker and server in one JVM (StartServiceManager with one config per role)."""
    java, *flags = _pinot_java(cfg, paths)
    agent = _metrics_agent(cfg, cfg.pinot_metrics_port, "pinot")
    command = [java, "-Xms512m", f"-Xmx{cfg.pinot_heap}", "-XX:MaxDirectMemorySize=512m", "-XX:+UseG1GC",
               *PINOT_JVM_OPENS, agent, *flags, "org.apache.pinot.tools.admin.PinotAdministrator",
               "StartServiceManager", "-zkAddress", f"{cfg.bind_host}:{cfg.zookeeper_port}",
               "-clusterName", PINOT_CLUSTER, "-port", "-1", "-bootstrapConfigPaths",
               *(str(paths.conf / "pinot" / f"{role}.conf") for role in ("controller", "broker", "server"))]
    checks = [health.http(f"http://{cfg.bind_host}:{port}/health")
              for port in (cfg.pinot_controller_port, cfg.pinot_broker_port, cfg.pinot_server_admin_port)]
    return Service("pinot", command, health.all_of(checks), stage=1, start_timeout_s=240)


# --- Trino ----------------------------------------------------------------------------------------

def _trino_dirs(paths: StatePaths, name: str) -> tuple[Path, Path]:
    """A Trino node's rendered etc dir and its data dir (the coordinator's: conf/trino, data/trino)."""
    etc = paths.conf / "trino" if name == "trino" else paths.conf / name / "trino"
    return etc, paths.data / name


def render_trino_node(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> None:
    """The coordinator is `trino` (its node id stays trino-local-1); any other name is a worker."""
    etc, data = _trino_dirs(paths, name)
    coordinator = name == "trino"
    values = {**_template_values(cfg, paths), "TRINO_DATA_DIR": str(data),
              "TRINO_CATALOG_DIR": str(warehouse.trino_catalog_dir(cfg, paths)), "TRINO_HEAP": cfg.trino_heap,
              "TRINO_COORDINATOR": str(coordinator).lower(), "TRINO_HTTP_PORT": str(port),
              "TRINO_NODE_ID": "trino-local-1" if coordinator else name, "TRINO_NODE_HOST": cfg.bind_host}
    render_service("trino", etc.parent, values)


def prepare_trino(cfg: PlatformSettings, paths: StatePaths) -> None:
    render_trino_node(cfg, paths, "trino", cfg.trino_port)


def trino_node(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> Service:
    java_home = find_java_home(minimum=24)  # Trino 476 requires Java 24+
    server = paths.dist / f"trino-server-{cfg.trino_version}"
    etc, data = _trino_dirs(paths, name)
    command = [str(server / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={data}"]
    environment = {"JAVA_HOME": str(java_home), "PATH": f"{java_home / 'bin'}:{os.environ.get('PATH', '')}"}
    return Service(name, command, health.trino_ready(f"http://{cfg.bind_host}:{port}"), stage=2,
                   start_timeout_s=240, environment=environment)


def trino_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return trino_node(cfg, paths, "trino", cfg.trino_port)

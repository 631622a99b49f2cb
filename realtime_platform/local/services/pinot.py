"""Pinot in the local mode, with the ZooKeeper it keeps its cluster state in. The single topology runs
controller, broker and server in one JVM (StartServiceManager with one config per role);
TOPOLOGY=scaled runs the controller, the broker and two servers each in its own JVM, every server
holding a copy of every segment (bootstrap's PINOT_REPLICAS=2) with its own ports and data directory
(`server-<n>.conf`). Every process renders its config from the same templates, run from the Pinot
distribution in the shared downloads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime_platform.conf_templates import TEMPLATES, render, render_service
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service, java17, metrics_agent, template_values

PINOT_JVM_OPENS = [f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
                   for pkg in ("java.nio", "sun.nio.ch", "java.lang", "java.util", "java.lang.reflect")]
PINOT_CLUSTER = "PinotCluster"
PINOT_SERVERS = ("pinot-server-1", "pinot-server-2")


def pinot_values(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    return {**template_values(cfg, paths), "PINOT_DATA_DIR": str(paths.data / "pinot"),
            "PINOT_SERVER_NETTY_PORT": str(cfg.ports.pinot_server),
            "PINOT_SERVER_DIR": str(paths.data / "pinot" / "server")}


def _pinot_java(cfg: PlatformSettings, paths: StatePaths) -> list[str]:
    lib = paths.dist / f"pinot-{cfg.versions.pinot}" / "lib" / "*"
    return [java17(cfg), f"-Dlog4j2.configurationFile={TEMPLATES / 'pinot' / 'log4j2.xml'}",
            f"-Djava.io.tmpdir={paths.data / 'pinot' / 'tmp'}", "-cp", str(lib)]


def prepare_pinot(cfg: PlatformSettings, paths: StatePaths) -> None:
    values = pinot_values(cfg, paths)
    (paths.data / "pinot" / "tmp").mkdir(parents=True, exist_ok=True)
    render_service("pinot", paths.conf, values)


def zookeeper_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [*_pinot_java(cfg, paths)[:1], "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
               *_pinot_java(cfg, paths)[1:], "org.apache.zookeeper.server.ZooKeeperServerMain",
               str(paths.conf / "pinot" / "zookeeper.cfg")]
    return Service("pinot-zookeeper", command, health.zookeeper(cfg.bind_host, cfg.ports.zookeeper),
                   stage=0, start_timeout_s=60)


def pinot_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    """Controller, broker and server in one JVM (StartServiceManager with one config per role)."""
    java, *flags = _pinot_java(cfg, paths)
    agent = metrics_agent(cfg, cfg.ports.pinot_metrics, "pinot")
    command = [java, "-Xms512m", f"-Xmx{cfg.heaps.pinot}", "-XX:MaxDirectMemorySize=512m", "-XX:+UseG1GC",
               *PINOT_JVM_OPENS, agent, *flags, "org.apache.pinot.tools.admin.PinotAdministrator",
               "StartServiceManager", "-zkAddress", f"{cfg.bind_host}:{cfg.ports.zookeeper}",
               "-clusterName", PINOT_CLUSTER, "-port", "-1", "-bootstrapConfigPaths",
               *(str(paths.conf / "pinot" / f"{role}.conf") for role in ("controller", "broker", "server"))]
    checks = [health.http(f"{cfg.endpoint(port).url}/health")
              for port in (cfg.ports.pinot_controller, cfg.ports.pinot_broker, cfg.ports.pinot_server_admin)]
    return Service("pinot", command, health.all_of(checks), stage=1, start_timeout_s=240)


# --- TOPOLOGY=scaled: controller, broker and two servers, each its own JVM -----------------------

@dataclass(frozen=True)
class PinotServer:
    """One Pinot server: its ports, and the metrics port of its JMX exporter."""

    name: str
    netty_port: int
    admin_port: int
    grpc_port: int
    metrics_port: int


def pinot_servers(cfg: PlatformSettings) -> list[PinotServer]:
    first, second = PINOT_SERVERS
    return [PinotServer(first, cfg.ports.pinot_server, cfg.ports.pinot_server_admin,
                        cfg.ports.pinot_server_grpc, cfg.ports.pinot_metrics),
            PinotServer(second, cfg.ports.pinot_server_2, cfg.ports.pinot_server_2_admin,
                        cfg.ports.pinot_server_2_grpc, cfg.ports.pinot_server_2_metrics)]


def prepare_scaled_pinot(cfg: PlatformSettings, paths: StatePaths) -> None:
    """ZooKeeper, controller and broker configs as in the single topology, and one server.conf per
    server (`server-<n>.conf`), each with its own ports and data directory."""
    prepare_pinot(cfg, paths)
    for server in pinot_servers(cfg):
        values = {**pinot_values(cfg, paths), "PINOT_SERVER_NETTY_PORT": str(server.netty_port),
                  "PINOT_SERVER_ADMIN_PORT": str(server.admin_port),
                  "PINOT_SERVER_GRPC_PORT": str(server.grpc_port),
                  "PINOT_SERVER_DIR": str(paths.data / server.name)}
        render(TEMPLATES / "pinot" / "server.conf", _server_conf(paths, server), values)


def _server_conf(paths: StatePaths, server: PinotServer) -> Path:
    return paths.conf / "pinot" / f"{server.name}.conf"


def _pinot_role(cfg: PlatformSettings, paths: StatePaths, name: str, heap: str, role_args: list[str],
                check: health.HealthCheck, stage: int, metrics_port: int | None = None,
                first_jvm_flags: tuple[str, ...] = ()) -> Service:
    java, *flags = _pinot_java(cfg, paths)
    agent = [metrics_agent(cfg, metrics_port, "pinot")] if metrics_port else []
    # system.exit=false: PinotAdministrator would exit once the role has started.
    command = [java, *first_jvm_flags, "-Xms128m", f"-Xmx{heap}", "-XX:+UseG1GC",
               "-Dpinot.admin.system.exit=false", *PINOT_JVM_OPENS, *agent, *flags,
               "org.apache.pinot.tools.admin.PinotAdministrator", *role_args]
    return Service(name, command, check, stage=stage, start_timeout_s=240)


def pinot_controller_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return _pinot_role(cfg, paths, "pinot-controller", cfg.heaps.pinot_controller,
                       ["StartController", "-configFileName", str(paths.conf / "pinot" / "controller.conf")],
                       health.http(f"{cfg.pinot_controller.url}/health"), stage=1)


def pinot_broker_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    # Stage 2: broker and servers join the cluster the controller has created.
    return _pinot_role(cfg, paths, "pinot-broker", cfg.heaps.pinot_broker,
                       ["StartBroker", "-configFileName", str(paths.conf / "pinot" / "broker.conf")],
                       health.http(f"{cfg.pinot_broker.url}/health"), stage=2)


def pinot_server_service(cfg: PlatformSettings, paths: StatePaths, name: str) -> Service:
    [server] = [s for s in pinot_servers(cfg) if s.name == name]
    return _pinot_role(cfg, paths, server.name, cfg.heaps.pinot_server,
                       ["StartServer", "-configFileName", str(_server_conf(paths, server))],
                       health.http(f"{cfg.endpoint(server.admin_port).url}/health"), stage=2,
                       metrics_port=server.metrics_port, first_jvm_flags=("-XX:MaxDirectMemorySize=512m",))

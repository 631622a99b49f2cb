"""The processes TOPOLOGY=scaled runs instead of, or beside, the single-process services.

- Pinot: controller, broker and two servers, each its own JVM (the single topology runs the three
  roles in one). Each server holds a copy of every segment (bootstrap's PINOT_REPLICAS=2).
- Trino: the coordinator (`trino`, as in the single topology) and `trino-worker-1`.
- Kafka Connect: `connect` and `connect-2`, two workers of one group.
- Dask: a scheduler and two workers, which TSum uses through DASK_SCHEDULER_ADDRESS.

Every process renders its config from the same templates as the single topology
(realtime_platform.conf_templates), with its own ports and directories.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from realtime_platform.conf_templates import TEMPLATES, render
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local import services as svc
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services import Service

TRINO_WORKER = "trino-worker-1"
CONNECT_WORKER_2 = "connect-2"
DASK_WORKERS = ("dask-worker-1", "dask-worker-2")
PINOT_SERVERS = ("pinot-server-1", "pinot-server-2")


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
    return [PinotServer(first, cfg.pinot_server_port, cfg.pinot_server_admin_port,
                        cfg.pinot_server_grpc_port, cfg.pinot_metrics_port),
            PinotServer(second, cfg.pinot_server_2_port, cfg.pinot_server_2_admin_port,
                        cfg.pinot_server_2_grpc_port, cfg.pinot_server_2_metrics_port)]


# --- Pinot ----------------------------------------------------------------------------------------

def prepare_pinot(cfg: PlatformSettings, paths: StatePaths) -> None:
    """ZooKeeper, controller and broker configs as in the single topology, and one server.conf per
    server (`server-<n>.conf`), each with its own ports and data directory."""
    svc.prepare_pinot(cfg, paths)
    for server in pinot_servers(cfg):
        values = {**svc._pinot_values(cfg, paths), "PINOT_SERVER_NETTY_PORT": str(server.netty_port),
                  "PINOT_SERVER_ADMIN_PORT": str(server.admin_port),
                  "PINOT_SERVER_GRPC_PORT": str(server.grpc_port),
                  "PINOT_SERVER_DIR": str(paths.data / server.name)}
        render(TEMPLATES / "pinot" / "server.conf", _server_conf(paths, server), values)


def _server_conf(paths: StatePaths, server: PinotServer) -> Path:
    return paths.conf / "pinot" / f"{server.name}.conf"


def _pinot_role(cfg: PlatformSettings, paths: StatePaths, name: str, heap: str, role_args: list[str],
                check: health.HealthCheck, stage: int, metrics_port: int | None = None) -> Service:
    java, *flags = svc._pinot_java(cfg, paths)
    agent = [svc._metrics_agent(cfg, metrics_port, "pinot")] if metrics_port else []
    # system.exit=false: PinotAdministrator would exit once the role has started.
    command = [java, "-Xms128m", f"-Xmx{heap}", "-XX:+UseG1GC", "-Dpinot.admin.system.exit=false",
               *svc.PINOT_JVM_OPENS, *agent, *flags, "org.apache.pinot.tools.admin.PinotAdministrator",
               *role_args]
    return Service(name, command, check, stage=stage, start_timeout_s=240)


def pinot_controller_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return _pinot_role(cfg, paths, "pinot-controller", cfg.pinot_controller_heap,
                       ["StartController", "-configFileName", str(paths.conf / "pinot" / "controller.conf")],
                       health.http(f"{cfg.pinot_controller_url}/health"), stage=1)


def pinot_broker_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    # Stage 2: broker and servers join the cluster the controller has created.
    return _pinot_role(cfg, paths, "pinot-broker", cfg.pinot_broker_heap,
                       ["StartBroker", "-configFileName", str(paths.conf / "pinot" / "broker.conf")],
                       health.http(f"{cfg.pinot_broker_url}/health"), stage=2)


def pinot_server_service(cfg: PlatformSettings, paths: StatePaths, name: str) -> Service:
    [server] = [s for s in pinot_servers(cfg) if s.name == name]
    service = _pinot_role(cfg, paths, server.name, cfg.pinot_server_heap,
                          ["StartServer", "-configFileName", str(_server_conf(paths, server))],
                          health.http(f"http://{cfg.bind_host}:{server.admin_port}/health"), stage=2,
                          metrics_port=server.metrics_port)
    service.command.insert(1, "-XX:MaxDirectMemorySize=512m")
    return service


# --- Trino worker and the second Connect worker ------------------------------------------------

def prepare_trino(cfg: PlatformSettings, paths: StatePaths) -> None:
    svc.prepare_trino(cfg, paths)
    svc.render_trino_node(cfg, paths, TRINO_WORKER, cfg.trino_worker_port)


def trino_worker_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return svc.trino_node(cfg, paths, TRINO_WORKER, cfg.trino_worker_port)


def prepare_connect(cfg: PlatformSettings, paths: StatePaths) -> None:
    svc.prepare_connect(cfg, paths)
    svc.render_connect_worker(cfg, paths, CONNECT_WORKER_2, cfg.connect_worker_2_port)


def connect_worker_2_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return svc.connect_worker(cfg, paths, CONNECT_WORKER_2, cfg.connect_worker_2_port,
                              cfg.connect_worker_2_metrics_port)


# --- Dask -----------------------------------------------------------------------------------------

def _dask() -> str:
    return str(Path(sys.executable).parent / "dask")


def _scheduler_identity(cfg: PlatformSettings) -> str:
    return f"http://{cfg.bind_host}:{cfg.dask_dashboard_port}/json/identity.json"


def dask_scheduler_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [_dask(), "scheduler", "--host", cfg.bind_host, "--port", str(cfg.dask_scheduler_port),
               "--dashboard-address", f"{cfg.bind_host}:{cfg.dask_dashboard_port}"]
    return Service("dask-scheduler", command, health.http(_scheduler_identity(cfg)), stage=0,
                       start_timeout_s=60, directory=paths.data)


def dask_worker_service(cfg: PlatformSettings, paths: StatePaths, name: str) -> Service:
    """A worker that TSum's partition queries run on. They read Trino through Airflow's TrinoHook,
    so the worker has the Airflow processes' environment (connections, no secret values)."""
    from realtime_platform.local.airflow_services import airflow_environment

    command = [_dask(), "worker", cfg.dask_scheduler_address, "--name", name, "--host", cfg.bind_host,
               "--nthreads", "2", "--memory-limit", cfg.dask_worker_memory, "--no-dashboard",
               # the worker's HTTP endpoints (health, metrics) run without the dashboard too, and
               # would listen on every address
               "--dashboard-address", f"{cfg.bind_host}:0",
               "--local-directory", str(paths.data / name)]

    def registered(response) -> bool:  # healthy once the scheduler lists it
        workers = response.json().get("workers", {})
        return any(worker.get("name") == name for worker in workers.values())

    return Service(name, command, health.http(_scheduler_identity(cfg), registered), stage=1,
                   start_timeout_s=60, directory=paths.data, environment=airflow_environment(cfg, paths))

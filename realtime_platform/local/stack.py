"""`up`, `down` and `status` of the whole local stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from realtime_platform.config import PlatformSettings
from realtime_platform.local import airflow_services as airflow
from realtime_platform.local import services as svc
from realtime_platform.local import superset_services as superset
from realtime_platform.local import supervisor
from realtime_platform.local.health import wait_until_healthy
from realtime_platform.local.install import install_all
from realtime_platform.local.paths import StatePaths, state_paths

# (service factory, preparation run before its first start in this `up`)
ServiceSpec = tuple[Callable[[PlatformSettings, StatePaths], svc.Service],
                    Callable[[PlatformSettings, StatePaths], None] | None]

SPECS: list[ServiceSpec] = [
    (svc.postgres_service, svc.prepare_postgres),
    (svc.moto_service, None),
    (svc.kafka_service, svc.prepare_kafka),
    (svc.connect_service, svc.prepare_connect),
    (svc.zookeeper_service, svc.prepare_pinot),
    (svc.pinot_service, None),
    (svc.trino_service, svc.prepare_trino),
    (superset.superset_service, superset.prepare_superset),
    (airflow.airflow_api_server_service, airflow.prepare_airflow),
    (airflow.airflow_scheduler_service, None),
    (airflow.airflow_dag_processor_service, None),
    (airflow.airflow_triggerer_service, None),
]


def all_services(cfg: PlatformSettings, paths: StatePaths) -> list[svc.Service]:
    return [factory(cfg, paths) for factory, _ in SPECS]


def up(cfg: PlatformSettings, only: list[str] | None = None) -> None:
    paths = state_paths(cfg)
    started = time.monotonic()
    print("== installing services (cached after the first run)")
    install_all(cfg, set(only) if only else None)
    services = all_services(cfg, paths)
    wanted = {s.name for s in services} if not only else set(only)
    print("== preparing configs and data folders")
    for (factory, prepare), service in zip(SPECS, services):
        if prepare and service.name in wanted:
            prepare(cfg, paths)
    supervisor.render_config(services, paths, cfg.service_environment())
    supervisor.ensure_daemon(paths)
    for stage in sorted({s.stage for s in services}):
        batch = [s for s in services if s.stage == stage and s.name in wanted]
        for service in batch:
            supervisor.start(paths, service.name)
        for service in batch:
            wait_until_healthy(service.name, service.health, service.start_timeout_s,
                               is_running=lambda name=service.name: supervisor.is_running(paths, name))
            if service.on_healthy:
                service.on_healthy()
    print(f"== stack up in {time.monotonic() - started:.0f}s")
    print_endpoints(cfg)


def print_endpoints(cfg: PlatformSettings) -> None:
    """Where a person goes next; local passwords come from .env (generated, git-ignored)."""
    print(f"   Airflow UI    {airflow.airflow_url(cfg)}  (user {airflow.ADMIN_USER}, "
          f"password {cfg.airflow_admin_password.get_secret_value()} from .env AIRFLOW_ADMIN_PASSWORD)")
    print(f"   Superset      {superset.superset_url(cfg)}  (user admin, password "
          f"{cfg.superset_admin_password.get_secret_value()} from .env SUPERSET_ADMIN_PASSWORD)")
    print(f"   Trino         {cfg.trino_url}  (CLI: .state/bin/trino)")
    print(f"   Pinot         {cfg.pinot_controller_url}  (query console)")
    print(f"   Kafka Connect {cfg.connect_url}/connectors")
    print(f"   PostgreSQL    {cfg.bind_host}:{cfg.postgres_port} db {cfg.postgres_db} (user {cfg.postgres_user}, "
          "password in .env POSTGRES_PASSWORD)")


def down(cfg: PlatformSettings) -> None:
    paths = state_paths(cfg)
    if not supervisor.daemon_running(paths):
        print("stack is not running")
        return
    for service in reversed(all_services(cfg, paths)):
        print(f"  stopping {service.name}")
        supervisor.stop(paths, service.name)
    supervisor.shutdown(paths)
    print("stack stopped")


def status(cfg: PlatformSettings) -> list[ServiceStatus]:
    """Process state, health and memory of every service."""
    paths = state_paths(cfg)
    services = all_services(cfg, paths)
    if not supervisor.daemon_running(paths):
        return [ServiceStatus(s.name, "STOPPED", "-", 0) for s in services]
    infos = {p["name"]: p for p in supervisor.process_info(paths)}
    result = []
    for service in services:
        info = infos.get(service.name, {})
        result.append(ServiceStatus(service.name, info.get("statename", "UNKNOWN"),
                                    "healthy" if service.health.ok() else "unhealthy",
                                    _tree_rss(info.get("pid", 0))))
    return result


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str
    health: str
    rss_bytes: int


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (a launcher may fork the real JVM)."""
    if not pid:
        return 0
    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0

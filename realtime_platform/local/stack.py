"""`up`, `down` and `status` of the whole local stack."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import psutil

from realtime_platform.config import PlatformSettings
from realtime_platform.local import processes, supervisor
from realtime_platform.local.health import wait_until_healthy
from realtime_platform.local.install import install_all
from realtime_platform.local.paths import StatePaths, state_paths
from realtime_platform.local.services import (
    airflow,
    connect,
    dask,
    kafka,
    object_store,
    pinot,
    postgres,
    superset,
    trino,
)
from realtime_platform.local.services.base import Service

# (service factory, preparation run before its first start in this `up`)
ServiceSpec = tuple[Callable[[PlatformSettings, StatePaths], Service],
                    Callable[[PlatformSettings, StatePaths], None] | None]

STORAGE: list[ServiceSpec] = [
    (postgres.postgres_service, postgres.prepare_postgres),
    (object_store.object_store_service, object_store.prepare_object_store),
    (kafka.kafka_service, kafka.prepare_kafka),
]
SINGLE: list[ServiceSpec] = [
    (connect.connect_service, connect.prepare_connect),
    (pinot.zookeeper_service, pinot.prepare_pinot),
    (pinot.pinot_service, None),
    (trino.trino_service, trino.prepare_trino),
]
SCALED: list[ServiceSpec] = [
    (dask.dask_scheduler_service, None),
    *((partial(dask.dask_worker_service, name=name), None) for name in dask.DASK_WORKERS),
    (connect.connect_service, connect.prepare_scaled_connect),
    (connect.connect_worker_2_service, None),
    (pinot.zookeeper_service, pinot.prepare_scaled_pinot),
    (pinot.pinot_controller_service, None),
    (pinot.pinot_broker_service, None),
    *((partial(pinot.pinot_server_service, name=name), None) for name in pinot.PINOT_SERVERS),
    (trino.trino_service, trino.prepare_scaled_trino),
    (trino.trino_worker_service, None),
]
APPS: list[ServiceSpec] = [*superset.SUPERSET_SPECS, *airflow.AIRFLOW_SPECS]


def active_specs(cfg: PlatformSettings) -> list[ServiceSpec]:
    """The topology's services. With WAREHOUSE=aws the hive catalog uses AWS itself: no local
    object store."""
    specs = [*STORAGE, *(SCALED if cfg.scaled else SINGLE), *APPS]
    return [spec for spec in specs
            if not (cfg.warehouse == "aws" and spec[0] is object_store.object_store_service)]


def all_services(cfg: PlatformSettings, paths: StatePaths) -> list[Service]:
    return [factory(cfg, paths) for factory, _ in active_specs(cfg)]


def stop_orphans(paths: StatePaths) -> None:
    """Stops the processes a killed supervisord left behind, before anything counts as healthy."""
    left = processes.orphans(paths, supervisor.daemon_pid(paths))
    if not left:
        return
    print(f"== {len(left)} processes of this stack run without supervisord (was it killed?): "
          f"{processes.describe(left)}; stopping them", flush=True)
    killed = processes.terminate(left)
    if killed:
        print(f"   {len(killed)} did not stop on SIGTERM within 30s and were killed")


def ports_in_use(cfg: PlatformSettings) -> list[int]:
    """The stack's ports that something still listens on."""
    busy = []
    # in the order of their variables' names, as before the settings were grouped
    ports = {variable.lower(): port for variable, port in cfg.variables().items() if variable.endswith("_PORT")}
    for _name, value in sorted(ports.items()):
        if isinstance(value, int):
            with socket.socket() as probe:
                probe.settimeout(0.5)
                if probe.connect_ex((cfg.bind_host, value)) == 0:
                    busy.append(value)
    return busy


def other_topology(cfg: PlatformSettings) -> PlatformSettings:
    return cfg.model_copy(update={"topology": "single" if cfg.scaled else "scaled"})


def up(cfg: PlatformSettings, only: list[str] | None = None) -> None:
    paths = state_paths(cfg)
    other = other_topology(cfg)
    if supervisor.daemon_running(state_paths(other)):  # both use the same ports
        raise RuntimeError(f"the {other.topology} topology is running; stop it first "
                           f"(`make down TOPOLOGY={other.topology}`)")
    started = time.monotonic()
    print(f"== topology {cfg.topology} (state in {paths.root})")
    print("== installing services (cached after the first run)")
    install_all(cfg, set(only) if only else None)
    services = all_services(cfg, paths)
    wanted = {s.name for s in services} if not only else set(only)
    print("== preparing configs and data folders")
    for (_factory, prepare), service in zip(active_specs(cfg), services):
        if prepare and service.name in wanted:
            prepare(cfg, paths)
    stop_orphans(paths)
    supervisor.render_config(services, paths, cfg.service_environment())
    supervisor.ensure_daemon(paths, set(only) if only else None)
    for stage in sorted({s.stage for s in services}):
        batch = [s for s in services if s.stage == stage and s.name in wanted]
        for service in batch:
            supervisor.start(paths, service.name)
        for service in batch:
            wait_until_healthy(service.name, service.health, service.start_timeout_s,
                               is_running=partial(supervisor.is_running, paths, service.name))
            if service.on_healthy:
                service.on_healthy()
    print(f"== stack up in {time.monotonic() - started:.0f}s")
    print_endpoints(cfg)


def print_endpoints(cfg: PlatformSettings) -> None:
    """Where a person goes next. Passwords are named, not printed (this output lands in CI logs):
    they are in .env (generated, git-ignored)."""
    print(f"   Airflow UI    {cfg.airflow.url}  (user {airflow.ADMIN_USER}, password in .env AIRFLOW_ADMIN_PASSWORD)")
    print(f"   Superset      {superset.superset_url(cfg)}  (user admin, password in .env SUPERSET_ADMIN_PASSWORD)")
    print(f"   Trino         {cfg.trino.url}  (CLI: .state/bin/trino)")
    print(f"   Pinot         {cfg.pinot_controller.url}  (query console)")
    print(f"   Kafka Connect {cfg.connect.url}/connectors")
    print(f"   PostgreSQL    {cfg.bind_host}:{cfg.ports.postgres} db {cfg.postgres_db} (user {cfg.postgres_user}, "
          "password in .env POSTGRES_PASSWORD)")


def down(cfg: PlatformSettings) -> None:
    """Stops the supervised services, then any process of the stack left without supervisord."""
    paths = state_paths(cfg)
    if supervisor.daemon_running(paths):
        for service in reversed(all_services(cfg, paths)):
            print(f"  stopping {service.name}")
            supervisor.stop(paths, service.name)
        supervisor.shutdown(paths)
    stop_orphans(paths)
    busy = ports_in_use(cfg)
    if busy:
        raise RuntimeError(f"stack stopped, but ports {', '.join(map(str, busy))} on {cfg.bind_host} are "
                           "still in use by processes that are not part of this stack")
    print("stack stopped; its ports are free")


def status(cfg: PlatformSettings) -> list[ServiceStatus]:
    """Process state, health and memory of every service."""
    paths = state_paths(cfg)
    services = all_services(cfg, paths)
    supervisord_pid = supervisor.daemon_pid(paths)
    infos = {p["name"]: p for p in supervisor.process_info(paths)} if supervisord_pid else {}
    stray: dict[str, list[processes.StackProcess]] = {}
    for entry in processes.orphans(paths, supervisord_pid):
        stray.setdefault(entry.service, []).append(entry)
    result = []
    for service in services:
        info = infos.get(service.name, {})
        state = info.get("statename", "STOPPED")
        rss = _tree_rss(info.get("pid", 0))
        if service.name in stray:  # running, but no supervisord restarts or stops it
            state = "ORPHANED"
            rss += sum(p.rss_bytes for p in stray[service.name])
        result.append(ServiceStatus(service.name, state, "healthy" if service.health.ok() else "unhealthy",
                                    rss, info.get("pid", 0) or None))
    return result


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str
    health: str
    rss_bytes: int
    pid: int | None = None


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and its children (a launcher may fork the real JVM)."""
    if not pid:
        return 0
    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0

"""Dask in the local mode, TOPOLOGY=scaled only: a scheduler and two workers (`dask-worker-1`,
`dask-worker-2`), run with the `dask` command of the platform's venv, which TSum uses through
DASK_SCHEDULER_ADDRESS. The workers read Trino through Airflow's TrinoHook, so they get the Airflow
processes' environment (airflow.py). The single topology runs no Dask: TSum's partition queries
run on threads inside its task."""

from __future__ import annotations

import sys
from pathlib import Path

from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service

DASK_WORKERS = ("dask-worker-1", "dask-worker-2")


def _dask() -> str:
    return str(Path(sys.executable).parent / "dask")


def _scheduler_identity(cfg: PlatformSettings) -> str:
    return f"{cfg.dask_dashboard.url}/json/identity.json"


def dask_scheduler_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [_dask(), "scheduler", "--host", cfg.bind_host, "--port", str(cfg.ports.dask_scheduler),
               "--dashboard-address", cfg.dask_dashboard.host_port]
    return Service("dask-scheduler", command, health.http(_scheduler_identity(cfg)), stage=0,
                       start_timeout_s=60, directory=paths.data)


def dask_worker_service(cfg: PlatformSettings, paths: StatePaths, name: str) -> Service:
    """A worker that TSum's partition queries run on. They read Trino through Airflow's TrinoHook,
    so the worker has the Airflow processes' environment (connections, no secret values)."""
    from realtime_platform.local.services.airflow import airflow_environment

    command = [_dask(), "worker", cfg.dask_scheduler_address, "--name", name, "--host", cfg.bind_host,
               "--nthreads", "2", "--memory-limit", cfg.heaps.dask_worker, "--no-dashboard",
               # the worker's HTTP endpoints (health, metrics) run without the dashboard too, and
               # would listen on every address
               "--dashboard-address", f"{cfg.bind_host}:0",
               "--local-directory", str(paths.data / name)]

    def registered(response) -> bool:  # healthy once the scheduler lists it
        workers = response.json().get("workers", {})
        return any(worker.get("name") == name for worker in workers.values())

    return Service(name, command, health.http(_scheduler_identity(cfg), registered), stage=1,
                   start_timeout_s=60, directory=paths.data, environment=airflow_environment(cfg, paths))

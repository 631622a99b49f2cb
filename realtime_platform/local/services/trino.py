"""Trino in the local mode: the server's own launcher on Java 24+, its etc dir rendered from the
templates with the hive catalog pointed at the local warehouse. The single topology runs the
coordinator `trino` alone (it also runs tasks); TOPOLOGY=scaled adds `trino-worker-1`, a worker of
the same cluster with its own etc and data dirs and ports."""

from __future__ import annotations

import os
from pathlib import Path

from realtime_platform.conf_templates import render_service
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health, warehouse
from realtime_platform.local.jvm import find_java_home
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service, template_values

TRINO_WORKER = "trino-worker-1"


def _trino_dirs(paths: StatePaths, name: str) -> tuple[Path, Path]:
    """A Trino node's rendered etc dir and its data dir (the coordinator's: conf/trino, data/trino)."""
    etc = paths.conf / "trino" if name == "trino" else paths.conf / name / "trino"
    return etc, paths.data / name


def render_trino_node(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> None:
    """The coordinator is `trino` (its node id stays trino-local-1); any other name is a worker."""
    etc, data = _trino_dirs(paths, name)
    coordinator = name == "trino"
    values = {**template_values(cfg, paths), "TRINO_DATA_DIR": str(data),
              "TRINO_CATALOG_DIR": str(warehouse.trino_catalog_dir(cfg, paths)), "TRINO_HEAP": cfg.heaps.trino,
              "TRINO_COORDINATOR": str(coordinator).lower(), "TRINO_HTTP_PORT": str(port),
              "TRINO_NODE_ID": "trino-local-1" if coordinator else name, "TRINO_NODE_HOST": cfg.bind_host}
    render_service("trino", etc.parent, values)


def prepare_trino(cfg: PlatformSettings, paths: StatePaths) -> None:
    render_trino_node(cfg, paths, "trino", cfg.ports.trino)


def trino_node(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> Service:
    java_home = find_java_home(minimum=24)  # Trino 476 requires Java 24+
    server = paths.dist / f"trino-server-{cfg.versions.trino}"
    etc, data = _trino_dirs(paths, name)
    command = [str(server / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={data}"]
    environment = {"JAVA_HOME": str(java_home), "PATH": f"{java_home / 'bin'}:{os.environ.get('PATH', '')}"}
    return Service(name, command, health.trino_ready(cfg.endpoint(port).url), stage=2,
                   start_timeout_s=240, environment=environment)


def trino_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return trino_node(cfg, paths, "trino", cfg.ports.trino)


# --- TOPOLOGY=scaled: the worker ------------------------------------------------------------------

def prepare_scaled_trino(cfg: PlatformSettings, paths: StatePaths) -> None:
    prepare_trino(cfg, paths)
    render_trino_node(cfg, paths, TRINO_WORKER, cfg.ports.trino_worker)


def trino_worker_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return trino_node(cfg, paths, TRINO_WORKER, cfg.ports.trino_worker)

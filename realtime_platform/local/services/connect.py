"""Kafka Connect in the local mode: workers in distributed mode with the Debezium plugins, run from
the Kafka distribution's jars. The single topology runs one worker, `connect`; TOPOLOGY=scaled adds
`connect-2`, a second worker of the same group (they share the config, offset and status topics),
whose config is rendered from the same template into its own folder with its own ports."""

from __future__ import annotations

from pathlib import Path

from realtime_platform.conf_templates import render_service
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service, java17, log4j_flags, metrics_agent, template_values
from realtime_platform.local.services.kafka import kafka_lib

CONNECT_WORKER_2 = "connect-2"


def _connect_conf_root(paths: StatePaths, name: str) -> Path:
    """Where a worker's rendered config lives: the first worker's in conf/connect."""
    return paths.conf if name == "connect" else paths.conf / name


def render_connect_worker(cfg: PlatformSettings, paths: StatePaths, name: str, port: int) -> None:
    plugin_path = paths.dist / f"connect-plugins-debezium-{cfg.versions.debezium}"
    render_service("connect", _connect_conf_root(paths, name),
                   {**template_values(cfg, paths), "PLUGIN_PATH": str(plugin_path), "CONNECT_PORT": str(port)})


def prepare_connect(cfg: PlatformSettings, paths: StatePaths) -> None:
    render_connect_worker(cfg, paths, "connect", cfg.ports.connect)


def connect_worker(cfg: PlatformSettings, paths: StatePaths, name: str, port: int, metrics_port: int) -> Service:
    """A Kafka Connect worker in distributed mode; workers of one group share the config topics."""
    conf = _connect_conf_root(paths, name) / "connect" / "connect-distributed.properties"
    command = [java17(cfg), "-Xms256m", f"-Xmx{cfg.heaps.connect}", *log4j_flags(),
               metrics_agent(cfg, metrics_port, "connect"), "-cp", kafka_lib(cfg, paths),
               "org.apache.kafka.connect.cli.ConnectDistributed", str(conf)]
    return Service(name, command, health.http(f"{cfg.endpoint(port).url}/connectors"), stage=1,
                   start_timeout_s=180)


def connect_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return connect_worker(cfg, paths, "connect", cfg.ports.connect, cfg.ports.connect_metrics)


# --- TOPOLOGY=scaled: the second worker -----------------------------------------------------------

def prepare_scaled_connect(cfg: PlatformSettings, paths: StatePaths) -> None:
    prepare_connect(cfg, paths)
    render_connect_worker(cfg, paths, CONNECT_WORKER_2, cfg.ports.connect_worker_2)


def connect_worker_2_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    return connect_worker(cfg, paths, CONNECT_WORKER_2, cfg.ports.connect_worker_2,
                          cfg.ports.connect_worker_2_metrics)

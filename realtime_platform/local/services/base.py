"""The `Service` spec that every local service is described by, and what several JVM services share.

Each `Service` becomes one supervisord program. `prepare_*` functions (in each technology's module)
do the one-time work a service needs before its first start (initdb, Kafka storage format) and render
its config files from the templates in local/conf (realtime_platform.conf_templates; compose renders
the same ones) with the values of `template_values`. The JVM services run on Java 17+ (`java17`), log
through the shared log4j2 config (`log4j_flags`) and expose their MBeans with the Prometheus JMX
exporter (`metrics_agent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from realtime_platform.conf_templates import TEMPLATES
from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.install import jmx_exporter_agent
from realtime_platform.local.jvm import find_java_home
from realtime_platform.local.paths import StatePaths


@dataclass(frozen=True)
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


def template_values(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    values = {key: str(value) for key, value in cfg.variables().items() if isinstance(value, (int, str, Path))}
    values.update(cfg.service_environment())
    values.update(BIND_HOST=cfg.bind_host, STATE_DIR=str(paths.root), REPO_ROOT=str(REPO_ROOT))
    # Every service listens on, and registers, the bind host (compose: 0.0.0.0 and service names).
    values.update(LISTEN_HOST=cfg.bind_host, CONNECT_HOST=cfg.bind_host, TRINO_HOST=cfg.bind_host,
                  ZOOKEEPER_HOST=cfg.bind_host, PINOT_CONTROLLER_HOST=cfg.bind_host,
                  PINOT_BROKER_HOST=cfg.bind_host, PINOT_SERVER_HOST=cfg.bind_host)
    return values


def java17(cfg: PlatformSettings) -> str:
    return str(find_java_home(minimum=17) / "bin" / "java")


def log4j_flags() -> list[str]:
    return [f"-Dlog4j2.configurationFile={TEMPLATES / 'log4j2.properties'}"]


def metrics_agent(cfg: PlatformSettings, port: int, service: str) -> str:
    """The Prometheus JMX exporter as a java agent: the JVM's chosen MBeans over HTTP at port."""
    return f"-javaagent:{jmx_exporter_agent(cfg)}={cfg.bind_host}:{port}:{TEMPLATES / service / 'jmx-exporter.yaml'}"

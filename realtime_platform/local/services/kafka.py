"""Kafka in the local mode: one broker in KRaft mode (its own controller), run from the Kafka
distribution in the shared downloads on Java 17+. `prepare_kafka` renders server.properties and
formats the KRaft storage at the first start. The topologies share the one broker; the Connect
workers (connect.py) run from the same distribution's jars (`kafka_lib`)."""

from __future__ import annotations

import subprocess
import uuid

from realtime_platform.conf_templates import TEMPLATES, render
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service, java17, log4j_flags, metrics_agent, template_values


def kafka_lib(cfg: PlatformSettings, paths: StatePaths) -> str:
    return str(paths.dist / f"kafka-{cfg.versions.kafka}" / "lib" / "*")


def prepare_kafka(cfg: PlatformSettings, paths: StatePaths) -> None:
    values = {**template_values(cfg, paths), "DATA_DIR": str(paths.data / "kafka")}
    conf = render(TEMPLATES / "kafka" / "server.properties", paths.conf / "kafka" / "server.properties",
                  values)
    if (paths.data / "kafka" / "meta.properties").exists():
        return
    print("  formatting Kafka's KRaft storage (first start)")
    subprocess.run([java17(cfg), "-cp", kafka_lib(cfg, paths), *log4j_flags(),
                    "kafka.tools.StorageTool", "format", "--standalone",
                    "--cluster-id", uuid.uuid4().hex[:22], "--config", str(conf)],
                   check=True, stdout=subprocess.DEVNULL)


def kafka_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    command = [java17(cfg), f"-Xms{cfg.heaps.kafka}", f"-Xmx{cfg.heaps.kafka}", "-XX:+UseG1GC",
               *log4j_flags(), metrics_agent(cfg, cfg.ports.kafka_metrics, "kafka"), "-cp", kafka_lib(cfg, paths), "kafka.Kafka",
               str(paths.conf / "kafka" / "server.properties")]
    return Service("kafka", command, health.tcp(cfg.bind_host, cfg.ports.kafka), stage=0)

"""A stream kept as files under tests/live/fixtures/<name>/, in the repository's layout, that a live
test adds to the platform as a user would (docs/adding-a-stream.md) and removes again."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg
import requests
from confluent_kafka.admin import AdminClient

from realtime_platform.config import REPO_ROOT
from realtime_platform.local.services import run_postgres_init
from realtime_platform.trino_client import query
from tests.live.connectors import wait_for_state
from tests.live.polling import wait

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class FixtureStream:
    name: str

    @property
    def folder(self) -> Path:
        return FIXTURES / self.name

    @cached_property
    def connector(self) -> dict:
        return json.loads((self.folder / "debezium" / f"{self.name}.json").read_text())["config"]

    @property
    def source_table(self) -> str:
        return f"public.{self.name}"

    @property
    def view(self) -> str:
        return f"hive.views.{self.name}"

    @property
    def patterns(self) -> str:
        return f"hive.summaries.{self.name}_patterns"

    @property
    def topics(self) -> list[str]:
        """Its table's topic and its connector's heartbeat topic."""
        return [self.name, f"__debezium-heartbeat.{self.connector['topic.prefix']}"]

    def files(self) -> list[Path]:
        """The stream's files, as paths relative to the repository."""
        return sorted(p.relative_to(self.folder) for p in self.folder.rglob("*") if p.is_file())

    def copy_in(self) -> list[str]:
        """Copies the files into the repository (refusing to overwrite one) and applies its DDL, as the
        next `make up` (compose: postgres-init) would."""
        added = []
        for relative in self.files():
            assert not (REPO_ROOT / relative).exists(), f"{relative} would be overwritten"
            (REPO_ROOT / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.folder / relative, REPO_ROOT / relative)
            added.append(str(relative))
        return added

    def apply_ddl(self, cfg) -> None:
        run_postgres_init(cfg)

    def remove(self, cfg, drop_types: tuple[str, ...] = ()) -> None:
        """Takes the stream out of every service and the repository; each step is idempotent."""
        connector = f"{cfg.connect_url}/connectors/{self.name}"
        if requests.get(connector, timeout=10).ok:
            # Stop, then forget its source offsets: a later connector of the same name must snapshot
            # the new table, not resume at an LSN of the slot dropped below.
            requests.put(f"{connector}/stop", timeout=10).raise_for_status()
            wait_for_state(cfg.connect_url, self.name, "STOPPED", require_tasks=False)
            requests.delete(f"{connector}/offsets", timeout=30).raise_for_status()
            requests.delete(connector, timeout=10).raise_for_status()
        pinot = cfg.pinot_controller_url
        if self.name in requests.get(f"{pinot}/tables", timeout=10).json()["tables"]:
            requests.delete(f"{pinot}/tables/{self.name}", params={"type": "realtime"},
                            timeout=60).raise_for_status()
        if self.name in requests.get(f"{pinot}/schemas", timeout=10).json():
            requests.delete(f"{pinot}/schemas/{self.name}", timeout=30).raise_for_status()
        # Until the server has dropped its consuming segment, its consumer would create the topic again
        # (Kafka's auto.create.topics.enable).
        wait("Pinot's servers dropped the table", lambda: not requests.get(
            f"{pinot}/tables/{self.name}/externalview", timeout=10).ok, 120)
        admin = AdminClient({"bootstrap.servers": cfg.kafka_bootstrap})
        if topics := [t for t in self.topics if t in admin.list_topics(timeout=10).topics]:
            for future in admin.delete_topics(topics).values():
                future.result(timeout=60)
            wait("topics deleted", lambda: not set(self.topics) & set(admin.list_topics(timeout=10).topics), 60)
        query(cfg, f"DROP VIEW IF EXISTS {self.view}")
        query(cfg, f"DROP TABLE IF EXISTS {self.patterns}")
        slot = self.connector["slot.name"]
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            # The walsender of a deleted connector lets go of its slot within a moment.
            wait("replication slot released", lambda: not pg.execute(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active", (slot,)).fetchone(), 60)
            pg.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                       "WHERE slot_name = %s", (slot,))
            pg.execute(f"DROP PUBLICATION IF EXISTS {self.connector['publication.name']}")
            pg.execute(f"DROP TABLE IF EXISTS {self.source_table}")
            for type_name in drop_types:
                pg.execute(f"DROP TYPE IF EXISTS {type_name}")
        for relative in self.files():
            (REPO_ROOT / relative).unlink(missing_ok=True)
        for folder in {(REPO_ROOT / p).parent for p in self.files()}:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # the stream's own Pinot folder

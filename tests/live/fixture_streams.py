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

from realtime_platform import stream_commands
from realtime_platform.config import REPO_ROOT
from realtime_platform.local.services.postgres import run_postgres_init
from realtime_platform.trino_client import query

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
        """Takes the stream out of every service and the repository (`platformctl stream remove
        --drop-table`, with the stream as its fixture describes it); each step is idempotent."""
        stream_commands.remove(cfg, stream_commands.parts(self.name, repo=self.folder, files_in=REPO_ROOT),
                               drop_table=True)
        with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
            for type_name in drop_types:
                pg.execute(f"DROP TYPE IF EXISTS {type_name}")


def stack_snapshot(cfg, files: list[Path]) -> dict[str, list]:
    """What adding a stream changes, service by service; `files` relative to the repository."""
    with psycopg.connect(cfg.postgres_dsn()) as pg:
        def names(sql: str) -> list:
            return sorted(r[0] for r in pg.execute(sql).fetchall())

        postgres = {
            "postgres tables": names("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"),
            "publications": names("SELECT pubname FROM pg_publication"),
            "replication slots": names("SELECT slot_name FROM pg_replication_slots"),
        }
    pinot = cfg.pinot_controller.url
    topics = AdminClient({"bootstrap.servers": cfg.kafka_bootstrap}).list_topics(timeout=10).topics
    return {
        **postgres,
        "connectors": sorted(requests.get(f"{cfg.connect.url}/connectors", timeout=10).json()),
        "pinot tables": sorted(requests.get(f"{pinot}/tables", timeout=10).json()["tables"]),
        "pinot schemas": sorted(requests.get(f"{pinot}/schemas", timeout=10).json()),
        "kafka topics": sorted(topics),
        # The DAG runs of a test also refresh the other streams' reports and patterns.
        "hive tables": sorted(f"{schema}.{table}" for schema, table in query(
            cfg, "SELECT table_schema, table_name FROM hive.information_schema.tables "
                 "WHERE table_schema IN ('views', 'summaries')")),
        "repository files": [str(p) for p in files if (REPO_ROOT / p).exists()],
    }


def snapshot_changes(before: dict[str, list], after: dict[str, list], name: str) -> None:
    """Fails naming what removing stream `name` left changed (hive tables may only have been added,
    by other streams' DAG runs, never one of its own)."""
    tables_before, tables_after = set(before["hive tables"]), set(after["hive tables"])
    changed = {what: {"added": sorted(set(after[what]) - set(before[what])),
                      "gone": sorted(set(before[what]) - set(after[what]))}
               for what in before if what != "hive tables" and after[what] != before[what]}
    assert not changed, f"removing the stream left the stack changed: {changed}"
    assert tables_before <= tables_after, f"lost: {tables_before - tables_after}"
    assert not [t for t in tables_after if t.split(".")[1] in (name, f"{name}_patterns")], tables_after

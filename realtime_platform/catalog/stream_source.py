"""A DataHub source for the CDC path, so that the catalog forgets a stream that was removed.

The `pinot` recipe used DataHub's `file` source over a file of `stream_lineage.mcps()`; that source
keeps no state, so the datasets of a removed stream (its Pinot table, Kafka topic and PostgreSQL
table) stayed in the catalog for good. This source emits the same metadata, read from the files the
platform runs from, as a stateful source: DataHub's stale-entity removal compares the URNs with the
last successful run's checkpoint and soft-deletes the missing ones (`Status(removed=True)`).

Recipe: `type: realtime_platform.catalog.stream_source.StreamLineageSource` (DataHub imports a
source by its dotted path), with `stateful_ingestion.enabled: true`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from datahub.configuration.source_common import EnvConfigMixin
from datahub.ingestion.api.common import PipelineContext
from datahub.ingestion.api.decorators import config_class
from datahub.ingestion.api.workunit import MetadataWorkUnit
from datahub.ingestion.source.state.stale_entity_removal_handler import (
    StaleEntityRemovalSourceReport,
    StatefulStaleMetadataRemovalConfig,
)
from datahub.ingestion.source.state.stateful_ingestion_base import (
    StatefulIngestionConfigBase,
    StatefulIngestionSourceBase,
)
from pydantic import Field

from realtime_platform.catalog import stream_lineage


class StreamLineageConfig(StatefulIngestionConfigBase[StatefulStaleMetadataRemovalConfig], EnvConfigMixin):
    postgres_db: str = Field(description="The PostgreSQL database the Debezium connectors capture.")
    pinot_tables_dir: Path = Field(stream_lineage.PINOT_TABLES_DIR, description="pinot/tables/ of the repository.")
    debezium_dir: Path = Field(stream_lineage.DEBEZIUM_DIR, description="debezium/ of the repository.")


@dataclass
class StreamLineageReport(StaleEntityRemovalSourceReport):
    streams: int = 0
    proposals: int = 0


@config_class(StreamLineageConfig)
class StreamLineageSource(StatefulIngestionSourceBase):
    """Each stream's Pinot table, Kafka topic and PostgreSQL table, with their lineage."""

    def __init__(self, config: StreamLineageConfig, ctx: PipelineContext):
        super().__init__(config, ctx)  # type: ignore[arg-type]  # its signature names the generic base, invariantly
        self.config = config
        self.report: StreamLineageReport = StreamLineageReport()

    def get_workunits_internal(self) -> Iterable[MetadataWorkUnit]:
        tables = stream_lineage.stream_tables(self.config.pinot_tables_dir, self.config.debezium_dir)
        self.report.streams = len(tables)
        for mcp in stream_lineage.mcps(tables, self.config.postgres_db, self.config.env):
            self.report.proposals += 1
            yield mcp.as_workunit()

    def get_report(self) -> StreamLineageReport:
        return self.report

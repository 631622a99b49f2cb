"""Stream manifests: what the platform needs to know about a stream beyond its own config files.

A stream is its DDL (postgres/init), its connector (debezium/), its Pinot schema and table
(pinot/tables/), its view (dags/sql/views/<name>.sql) and, beside the view, `<name>.yml`:

    source_table: public.orders            # the PostgreSQL table the view mirrors
    key: [order_id]                        # integer key columns (the first orders the buckets)
    source_filter: created_at >= %(window_start)s AND created_at < %(window_end)s   # optional
    summarize:                             # optional: TSum patterns of the view, every run
      columns: [status, channel, country]
      partition_column: order_id

The data-quality checks, the TSum tasks and the catalog's TSum properties are derived from
these files, so adding a stream touches no Python (docs/adding-a-stream.md). The manifests sit
in the DAG folder, which Airflow reads in both modes.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from realtime_platform.layout import VIEWS_IN_DAG_FOLDER, views_folder

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
QUALIFIED = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class Summarize(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(..., min_length=1, description="Categorical columns TSum summarizes.")
    partition_column: str = Field(..., description="Integer key whose ranges split the grouped pass.")
    partitions: int = Field(4, ge=1, description="Key ranges, fetched in parallel through Dask.")

    @field_validator("columns", "partition_column")
    @classmethod
    def _identifiers(cls, value):
        for name in [value] if isinstance(value, str) else value:
            if not IDENTIFIER.match(name):
                raise ValueError(f"not a plain column name: {name!r}")
        return value


class StreamManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="The stream's name: its view is hive.views.<name>.")
    source_table: str = Field(..., description="schema.table in PostgreSQL.")
    key: list[str] = Field(..., min_length=1, description="Integer key columns.")
    source_filter: str = Field("", description="PostgreSQL condition matching the view's rows.")
    summarize: Summarize | None = None

    @field_validator("source_table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not QUALIFIED.match(value):
            raise ValueError(f"expected schema.table, got {value!r}")
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: list[str]) -> list[str]:
        for name in value:
            if not IDENTIFIER.match(name):
                raise ValueError(f"not a plain column name: {name!r}")
        return value

    @property
    def view(self) -> str:
        return f"hive.views.{self.name}"

    @property
    def patterns_table(self) -> str:
        return f"hive.summaries.{self.name}_patterns"


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file."""


def views_dir() -> Path:
    """dags/sql/views in the DAG folder Airflow runs (compose mounts it elsewhere)."""
    if "AIRFLOW__CORE__DAGS_FOLDER" in os.environ:
        return Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / VIEWS_IN_DAG_FOLDER
    return views_folder()


def load(path: Path) -> StreamManifest:
    if not path.with_suffix(".sql").exists():
        raise ManifestError(f"{path}: no view {path.with_suffix('.sql').name} beside it")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return StreamManifest(name=path.stem, **data)
    except (yaml.YAMLError, ValidationError, TypeError) as error:
        raise ManifestError(f"{path}: {error}") from error


@lru_cache(maxsize=8)
def _streams(files: tuple[tuple[str, int, int], ...]) -> tuple[StreamManifest, ...]:
    return tuple(load(Path(path)) for path, _, _ in files)


def streams(folder: Path | None = None) -> tuple[StreamManifest, ...]:
    """Every stream manifest of the views folder, by name. Parsed again when a manifest is added,
    removed or changed: a long-lived process (a DAG processor, a test session) sees a new stream."""
    files = []
    for path in sorted(Path(folder or views_dir()).glob("*.yml")):
        stat = path.stat()
        files.append((str(path), stat.st_mtime_ns, stat.st_size))
    return _streams(tuple(files))

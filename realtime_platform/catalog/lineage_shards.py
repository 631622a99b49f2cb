"""Task lineage written by DataHub's Airflow plugin, one file per process instead of one shared file.

The plugin's `datahub-file` connection writes through DataHub's `SynchronizedFileEmitter`, which
reads, parses and rewrites the whole shared file under a lock on every record (DataHub calls it "for
testing purposes only"). A task emits a few dozen records, so its cost grows with everything written
since the catalog last took the file: 0.22 s a record at 1,000 records waiting, past the plugin's
10 s limit per listener call at a few thousand (benchmarks/task_overhead.py).

`ShardedFileEmitter` keeps the records of its own process and rewrites only its own file,
`<lineage file>.d/<host>-<pid>-<random>.json`, a complete JSON array after every record (written aside, then
renamed). When the catalog has taken that file (`take`), the process starts a new one. A record
written while its file is being taken may be written twice, never lost: DataHub upserts aspects.
`install()` makes the plugin use it (plugins/datahub_lineage_shards.py).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def shard_folder(lineage_file: Path) -> Path:
    return lineage_file.with_name(f"{lineage_file.name}.d")


class ShardedFileEmitter:
    """DataHub's Emitter interface (emit, flush, close), for a `datahub-file` connection's file name."""

    def __init__(self, filename: str) -> None:
        # The random part: a later process given the same pid must not overwrite a file not yet taken.
        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._file = shard_folder(Path(filename)) / name
        self._records: list[Any] = []

    def emit(self, item: Any, callback: Callable[[Exception | None, str], None] | None = None) -> None:
        from datahub.ingestion.sink.file import write_metadata_file

        if self._records and not self._file.exists():  # taken by the catalog: those records are in it
            self._records = []
        self._records.append(item)
        self._file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._file.with_name(f".{self._file.name}.partial")
        write_metadata_file(partial, self._records)
        os.replace(partial, self._file)
        if callback is not None:
            callback(None, "written")

    def flush(self) -> None:  # every record is on disk once emit returns
        pass

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"ShardedFileEmitter('{self._file}')"


def install() -> None:
    """Makes DataHub's Airflow plugin write through ShardedFileEmitter: it looks the class up in
    `datahub.emitter.synchronized_file_emitter` each time it creates its emitter."""
    import datahub.emitter.synchronized_file_emitter as synchronized

    synchronized.SynchronizedFileEmitter = ShardedFileEmitter  # type: ignore[misc, assignment]


def take(lineage_file: Path, into: Path) -> list[Path]:
    """Moves every process's lineage file into `into`, for the catalog to ingest; returns them."""
    into.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    folder = shard_folder(lineage_file)
    for shard in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        shard.rename(into / f"{stamp}-{shard.name}")
    return sorted(into.glob("*.json"))

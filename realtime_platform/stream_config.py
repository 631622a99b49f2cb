"""The streams as one validated model: each Pinot table with the connector that writes its topic and
its manifest, loaded from the files bootstrap posts.

    debezium/shared/postgres.json        what every connector shares (credentials, converters,
                                         heartbeat, routing, the value settings of column_types)
    debezium/<name>.json                 one connector: its own keys, over the shared ones
    pinot/tables/NNN-<name>/             <name>_schema.json and <name>_table.json
    dags/sql/views/<name>.yml            the stream's manifest (realtime_platform/streams.py)

`load()` never raises on a bad file: every problem is collected with the file it is in, so that
bootstrap can list them all before it posts anything. `render()` writes what bootstrap posts: each
connector's full config, and each Pinot table with the Kafka address and replica count of the
running topology.

    python -m realtime_platform.stream_config check
    python -m realtime_platform.stream_config render OUT [--kafka-brokers B] [--replicas N]

Only pydantic and PyYAML are needed: compose's bootstrap container runs this too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from realtime_platform.column_types import (
    CONNECTOR_SETTINGS,
    STRING_MAX_LENGTH,
    PostgresColumn,
    UnsupportedColumn,
    carriage,
)
from realtime_platform.layout import REPO_ROOT, views_folder
from realtime_platform.streams import ManifestError, StreamManifest
from realtime_platform.streams import load as load_manifest

SHARED_CONNECTOR = Path("shared") / "postgres.json"  # under the debezium folder
KAFKA_BROKERS_PLACEHOLDER = "${PINOT_KAFKA_BROKERS}"
STRING_KEY_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
SECRET_NAME = re.compile(r"password|secret", re.IGNORECASE)
SECRET_REFERENCE = re.compile(r"^\$\{(env|file):")


@dataclass(frozen=True)
class Problem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class ConfigProblems(ValueError):
    """Files that cannot be posted; the message lists every problem with its file."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def _error_messages(error: ValidationError) -> list[str]:
    out = []
    for detail in error.errors():
        message = detail["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in detail["loc"])
        out.append(message if detail["type"] == "value_error" or not where else f"{where}: {message}")
    return out


# ---------------------------------------------------------------------------------------------
# Kafka Connect
# ---------------------------------------------------------------------------------------------
class Connector(BaseModel):
    """A Debezium connector: its own file's keys over the shared ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    config: dict[str, str]
    file: str = Field("", exclude=True)

    @field_validator("config")
    @classmethod
    def _complete(cls, config: dict[str, str]) -> dict[str, str]:
        if not config.get("connector.class"):
            raise ValueError('missing config."connector.class"')
        literal = [k for k, v in config.items() if SECRET_NAME.search(k) and not SECRET_REFERENCE.match(v)]
        if literal:
            raise ValueError(f"literal secret in {','.join(literal)}: use ${{env:NAME}} or ${{file:...}}")
        if config["connector.class"].endswith("PostgresConnector"):
            wrong = [f"{k}={v} (is: {config.get(k, 'unset')})" for k, v in CONNECTOR_SETTINGS.items()
                     if config.get(k) != v]
            if wrong:
                raise ValueError(f"values would not arrive exactly without {', '.join(wrong)} "
                                 f"(docs/adding-a-stream.md, Types)")
        return config

    def _transforms(self) -> list[str]:
        return [t.strip() for t in self.config.get("transforms", "").split(",") if t.strip()]

    def routed(self, topic: str) -> str:
        """The topic Kafka Connect's RegexRouter transforms (if any) make of `topic`."""
        for alias in self._transforms():
            prefix = f"transforms.{alias}."
            if self.config.get(prefix + "type", "").endswith("RegexRouter"):
                match = re.fullmatch(self.config[prefix + "regex"], topic)
                if match:  # Java's $1 is Python's \1
                    topic = match.expand(re.sub(r"\$(\d+)", r"\\\1", self.config[prefix + "replacement"]))
        return topic

    @property
    def source_tables(self) -> list[str]:
        """The tables of table.include.list that name one table ("schema.table"), not a pattern."""
        tables = []
        for pattern in filter(None, (p.strip() for p in self.config.get("table.include.list", "").split(","))):
            table = pattern.replace("\\.", ".")
            if not re.search(r"[\\^$*+?()\[\]{}|]", table):
                tables.append(table)
        return tables

    def topics(self) -> dict[str, str]:
        """Kafka topic -> the source table whose changes this connector writes into it."""
        return {self.routed(f"{self.config.get('topic.prefix', '')}.{t}"): t for t in self.source_tables}

    def key_field(self, topic: str) -> str | None:
        """The field an ExtractField$Key transform, limited to `topic` by a TopicNameMatches
        predicate, keys its records by."""
        for alias in self._transforms():
            prefix = f"transforms.{alias}."
            if not self.config.get(prefix + "type", "").endswith("ExtractField$Key"):
                continue
            predicate = self.config.get(prefix + "predicate", "")
            if (self.config.get(f"predicates.{predicate}.type", "").endswith("TopicNameMatches")
                    and self.config.get(f"predicates.{predicate}.pattern") == topic):
                return self.config.get(prefix + "field")
        return None


# ---------------------------------------------------------------------------------------------
# Pinot
# ---------------------------------------------------------------------------------------------
class PinotField(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    dataType: str


class PinotSchema(BaseModel):
    model_config = ConfigDict(extra="allow")

    schemaName: str = Field(min_length=1)
    primaryKeyColumns: list[str] = []
    dimensionFieldSpecs: list[PinotField] = []
    metricFieldSpecs: list[PinotField] = []
    dateTimeFieldSpecs: list[PinotField] = []

    @property
    def fields(self) -> dict[str, PinotField]:
        return {f.name: f for f in [*self.dimensionFieldSpecs, *self.metricFieldSpecs, *self.dateTimeFieldSpecs]}

    @model_validator(mode="after")
    def _key_in_schema(self) -> PinotSchema:
        missing = [c for c in self.primaryKeyColumns if c not in self.fields]
        if missing:
            raise ValueError(f"primary key column(s) not in the schema: {','.join(missing)}")
        return self


class PinotTableConfig(BaseModel):
    """The parts of a realtime table config the platform relies on; Pinot checks the rest."""

    model_config = ConfigDict(extra="allow")

    tableName: str = Field(min_length=1)
    segmentsConfig: dict[str, Any] = {}
    tableIndexConfig: dict[str, Any]
    ingestionConfig: dict[str, Any] = {}
    upsertConfig: dict[str, Any] | None = None
    routing: dict[str, Any] = {}

    @field_validator("tableIndexConfig")
    @classmethod
    def _has_topic(cls, value: dict) -> dict:
        if not (value.get("streamConfigs") or {}).get("stream.kafka.topic.name"):
            raise ValueError('missing tableIndexConfig.streamConfigs."stream.kafka.topic.name"')
        return value

    @property
    def schema_name(self) -> str:
        for holder in (self.tableIndexConfig, getattr(self, "validationConfig", None) or {}, self.segmentsConfig):
            if holder.get("schemaName"):
                return holder["schemaName"]
        return self.tableName

    @property
    def topic(self) -> str:
        return self.tableIndexConfig["streamConfigs"]["stream.kafka.topic.name"]

    @property
    def upsert(self) -> bool:
        return self.upsertConfig is not None and self.upsertConfig.get("mode", "NONE") != "NONE"

    @property
    def partitioning(self) -> dict[str, dict]:
        return (self.tableIndexConfig.get("segmentPartitionConfig") or {}).get("columnPartitionMap") or {}

    @property
    def transforms(self) -> dict[str, str]:
        return {t["columnName"]: t["transformFunction"] for t in self.ingestionConfig.get("transformConfigs", [])}


@dataclass
class Stream:
    """One Pinot table, the connector that writes its topic (if any) and its manifest (if any)."""

    folder: Path
    schema_file: Path
    table_file: Path
    schema: PinotSchema
    table: PinotTableConfig
    connector: Connector | None = None
    source_table: str | None = None
    manifest: StreamManifest | None = None

    @property
    def name(self) -> str:
        return self.table.tableName


@dataclass
class StreamSet:
    connectors: list[Connector] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def stream(self, name: str) -> Stream:
        return next(s for s in self.streams if s.name == name)

    def require_valid(self) -> StreamSet:
        if self.problems:
            raise ConfigProblems(self.problems)
        return self


def _read_json(path: Path, problems: list[Problem]) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        problems.append(Problem(str(path), f"malformed JSON ({error})"))
        return None


def load_connector(path: Path, shared: dict[str, str] | None = None) -> Connector:
    """One connector file over the shared keys: those of its own folder, or, for a file kept
    elsewhere to be copied in (a test's fixture), the repository's."""
    problems: list[Problem] = []
    if shared is None:
        folder = path.parent if (path.parent / SHARED_CONNECTOR).exists() else REPO_ROOT / "debezium"
        shared = _shared_config(folder, problems)
    data = _read_json(path, problems)
    if problems:
        raise ConfigProblems(problems)
    try:
        own = data.get("config") if isinstance(data, dict) else None
        return Connector(name=data.get("name", "") if isinstance(data, dict) else "",
                         config={**shared, **(own or {})}, file=str(path))
    except ValidationError as error:
        raise ConfigProblems([Problem(str(path), m) for m in _error_messages(error)]) from error


def _shared_config(debezium_dir: Path, problems: list[Problem]) -> dict[str, str]:
    path = debezium_dir / SHARED_CONNECTOR
    if not path.exists():
        return {}
    data = _read_json(path, problems)
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        if data is not None:
            problems.append(Problem(str(path), 'expected {"config": {...}}'))
        return {}
    return data["config"]


def _check_upsert(stream: Stream) -> list[tuple[Path, str]]:
    if not stream.table.upsert:
        return []
    out = []
    if not stream.schema.primaryKeyColumns:
        out.append((stream.schema_file, "an upsert table needs primaryKeyColumns"))
    if stream.table.routing.get("instanceSelectorType") != "strictReplicaGroup":
        out.append((stream.table_file, "an upsert table needs routing.instanceSelectorType = strictReplicaGroup"))
    for key in ("comparisonColumn", "deleteRecordColumn"):
        column = (stream.table.upsertConfig or {}).get(key)
        if column and column not in stream.schema.fields:
            out.append((stream.table_file, f'upsert column "{column}" is not in the schema'))
    return out


def _check_partitioning(stream: Stream, connectors: list[Connector], debezium_dir: Path) -> list[str]:
    """A partitioned upsert table: Kafka must put every change of a key in the partition Pinot's Murmur
    function gives that key, or the broker's partition pruning skips the segment that holds it. That
    holds when the connector keys the topic's records by the table's one-column primary key, as a
    plain string (ExtractField$Key + StringConverter: Kafka's murmur2 of the key bytes is then
    Pinot's murmur2 of the value), into as many partitions as the table declares."""
    spec = stream.table.partitioning
    if not spec:
        return []
    if len(spec) > 1:
        return ["segmentPartitionConfig: one column only (Kafka partitions by one key)"]
    ((column, partition),) = spec.items()
    out = []
    key = ",".join(stream.schema.primaryKeyColumns)
    topic = stream.table.topic
    if key != column:
        out.append(f"partitioned on {column}, but the primary key is ({key}): "
                   f"every change of a key must land in one partition")
    function = partition.get("functionName")
    if function != "Murmur":
        out.append(f"partition function {function}: Kafka's default partitioner is Murmur (murmur2 of the key)")
    keyed = [(c, c.key_field(topic)) for c in connectors if c.key_field(topic)]
    if not keyed:
        return [*out, (f"partitioned on {column}, but no connector in {debezium_dir} keys topic {topic} by it "
                       f"(ExtractField$Key with a TopicNameMatches predicate on {topic})")]
    connector, field_name = keyed[0]
    if field_name != column:
        out.append(f"partitioned on {column}, but connector {connector.name} keys topic {topic} by {field_name}")
    converter = connector.config.get("key.converter", "-")
    if converter != STRING_KEY_CONVERTER:
        out.append(f"connector {connector.name} must write its key with key.converter={STRING_KEY_CONVERTER} "
                   f"(is: {converter}), or Kafka hashes other bytes than Pinot")
    declared = partition.get("numPartitions")
    created = connector.config.get("topic.creation.default.partitions", "-")
    if str(declared) != created:
        out.append(f"numPartitions {declared}, but connector {connector.name} creates topic {topic} "
                   f"with topic.creation.default.partitions={created}")
    return out


def load_stream(folder: Path, problems: list[Problem]) -> Stream | None:
    """The Pinot table of one folder of pinot/tables/; None, with the problems added, when it is invalid."""
    schemas, tables = sorted(folder.glob("*_schema.json")), sorted(folder.glob("*_table.json"))
    if len(schemas) != 1 or len(tables) != 1:
        problems.append(Problem(f"{folder}/", "needs exactly one *_schema.json and one *_table.json"))
        return None
    schema_file, table_file = schemas[0], tables[0]
    found: list[Problem] = []
    schema_data, table_data = _read_json(schema_file, found), _read_json(table_file, found)
    parsed: dict[type, Any] = {}
    for path, data, model in ((schema_file, schema_data, PinotSchema), (table_file, table_data, PinotTableConfig)):
        if data is None:
            continue
        try:
            parsed[model] = model.model_validate(data)
        except ValidationError as error:
            found += [Problem(str(path), m) for m in _error_messages(error)]
    problems += found
    if found or len(parsed) != 2:
        return None
    stream = Stream(folder, schema_file, table_file, parsed[PinotSchema], parsed[PinotTableConfig])
    if stream.table.schema_name != stream.schema.schemaName:
        problems.append(Problem(str(table_file), f'table\'s schema "{stream.table.schema_name}" '
                                                 f'is not "{stream.schema.schemaName}"'))
    return stream


def load(debezium_dir: Path = REPO_ROOT / "debezium", pinot_dir: Path = REPO_ROOT / "pinot" / "tables",
         views_dir: Path | None = None) -> StreamSet:
    """Every connector and Pinot table, joined by topic, with every problem found. Connectors take the
    shared keys of their folder, or the repository's (a test's fixture, to be copied in)."""
    out = StreamSet()
    shared_in = debezium_dir if (debezium_dir / SHARED_CONNECTOR).exists() else REPO_ROOT / "debezium"
    shared = _shared_config(shared_in, out.problems)
    paths = sorted(debezium_dir.glob("*.json"))
    if not paths:
        out.problems.append(Problem(str(debezium_dir), "no connector files"))
    for path in paths:
        try:
            out.connectors.append(load_connector(path, shared))
        except ConfigProblems as error:
            out.problems += error.problems
    sources = {topic: (c, table) for c in out.connectors for topic, table in c.topics().items()}
    for folder in sorted(p for p in pinot_dir.iterdir() if p.is_dir()) if pinot_dir.is_dir() else []:
        stream = load_stream(folder, out.problems)
        if stream is None:
            continue
        stream.connector, stream.source_table = sources.get(stream.table.topic, (None, None))
        manifest = (views_dir or views_folder()) / f"{stream.name}.yml"
        if manifest.exists():
            try:
                stream.manifest = load_manifest(manifest)
            except ManifestError as error:
                out.problems.append(Problem(str(manifest), str(error).removeprefix(f"{manifest}: ")))
        for file, message in _check_upsert(stream):
            out.problems.append(Problem(str(file), message))
        for message in _check_partitioning(stream, out.connectors, debezium_dir):
            out.problems.append(Problem(str(stream.table_file), message))
        out.streams.append(stream)
    return out


# ---------------------------------------------------------------------------------------------
# Against the live source table
# ---------------------------------------------------------------------------------------------
_TYPED_READERS = {"STRING": "jsonPathString", "INT": "jsonPathLong", "LONG": "jsonPathLong",
                  "FLOAT": "jsonPathDouble", "DOUBLE": "jsonPathDouble"}
_KEY_PINOT_TYPES = {"smallint": {"INT", "LONG"}, "integer": {"INT", "LONG"}, "bigint": {"LONG"}}


def _reads(transform: str) -> tuple[str, str] | None:
    """(function, column) of a transform that reads `$.after.<column>` of the change event."""
    match = re.match(r"\s*(jsonPath\w*)\s*\(\s*payload\s*,\s*'\$\.after\.(\w+)'", transform)
    return (match[1], match[2]) if match else None


def source_fit(stream: Stream, columns: list[PostgresColumn]) -> list[str]:
    """What in the Pinot files does not carry its PostgreSQL column exactly (column_types.py): the
    field's type, a transform reading another column or losing NULLs, a string cut at 512 characters.
    A Pinot field that names no column of the table (the platform's own, or one derived) is left alone."""
    out = []
    fields, transforms = stream.schema.fields, stream.table.transforms
    for column in columns:
        if column.name not in fields:
            continue
        pinot_type = fields[column.name].dataType
        transform = transforms.get(column.name, "(none)")
        have = f"Pinot {pinot_type} with {transform}"
        if column.name in stream.schema.primaryKeyColumns:
            allowed = _KEY_PINOT_TYPES.get(column.type)
            reads = _reads(transform)
            if allowed is None or pinot_type not in allowed or not reads or reads[1] != column.name:
                out.append(f"key column {column.name}: {have} does not fit PostgreSQL {column.type} "
                           f"(expected an integer key: {' or '.join(sorted(allowed or {'INT', 'LONG'}))} "
                           f"reading $.after.{column.name})")
            continue
        try:
            want = carriage(column)
        except UnsupportedColumn as error:
            out.append(f"{error}")
            continue
        reads = _reads(transform)
        typed_without_nulls = (not column.nullable and reads is not None
                               and reads[0] == _TYPED_READERS.get(want.pinot_type))
        if pinot_type != want.pinot_type or not reads or reads[1] != column.name or not (
                transform.strip() == want.transform or typed_without_nulls):
            why = ""
            if reads and reads[1] == column.name and pinot_type == want.pinot_type:
                if reads[0] == _TYPED_READERS.get(want.pinot_type):
                    why = " (a typed jsonPath… turns NULL into its default)"
                elif reads[0] != "jsonPath":
                    why = f" ({reads[0]} cannot read what Debezium sends: {want.debezium})"
            out.append(f"column {column.name}: {have} does not fit PostgreSQL {column.type}{why}: "
                       f"expected {want.pinot_type} with {want.transform}")
        elif pinot_type == "STRING" and int(getattr(fields[column.name], "maxLength", 512)) < STRING_MAX_LENGTH:
            out.append(f"column {column.name}: STRING without \"maxLength\": {STRING_MAX_LENGTH} would cut "
                       f"PostgreSQL {column.type} values at {getattr(fields[column.name], 'maxLength', 512)} characters")
    return out


# ---------------------------------------------------------------------------------------------
# What bootstrap posts
# ---------------------------------------------------------------------------------------------
def rendered_table(stream: Stream, kafka_brokers: str, replicas: int) -> dict:
    """The table config as posted: the Kafka address Pinot's consumers use, and one copy of every
    segment per server (each replica group keeps its own primary-key map of the upsert)."""
    text = stream.table_file.read_text().replace(KAFKA_BROKERS_PLACEHOLDER, kafka_brokers.replace('"', ""))
    table = json.loads(text)
    table.setdefault("segmentsConfig", {})["replicasPerPartition"] = str(replicas)
    group = (table.get("instanceAssignmentConfigMap", {}).get("CONSUMING", {}).get("replicaGroupPartitionConfig"))
    if group is not None:
        group["numReplicaGroups"] = replicas
    return table


def render(streams: StreamSet, out: Path, kafka_brokers: str, replicas: int) -> None:
    """Writes out/connectors/<name>.json (the config PUT to Kafka Connect) and out/pinot/<folder>/
    (schema and table as POSTed), and out/sources.tsv (schema and table file of each stream, as
    written in the repository, for the checks that name them)."""
    streams.require_valid()
    (out / "connectors").mkdir(parents=True, exist_ok=True)
    for connector in streams.connectors:
        body = {**connector.config, "name": connector.name}
        (out / "connectors" / f"{connector.name}.json").write_text(json.dumps(body, indent=2))
    lines = []
    for stream in streams.streams:
        folder = out / "pinot" / stream.folder.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stream.schema_file.name).write_text(stream.schema_file.read_text())
        (folder / stream.table_file.name).write_text(json.dumps(rendered_table(stream, kafka_brokers, replicas),
                                                                indent=2))
        lines.append(f"{stream.schema_file}\t{stream.table_file}\n")
    (out / "sources.tsv").write_text("".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime_platform.stream_config", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check", "render"])
    parser.add_argument("out", nargs="?", type=Path, help="render: the folder to write")
    parser.add_argument("--debezium-dir", type=Path, default=Path(os.environ.get("DEBEZIUM_DIR", REPO_ROOT / "debezium")))
    parser.add_argument("--pinot-dir", type=Path,
                        default=Path(os.environ.get("PINOT_TABLES_DIR", REPO_ROOT / "pinot" / "tables")))
    parser.add_argument("--views-dir", type=Path,
                        default=Path(os.environ.get("VIEWS_DIR", views_folder())))
    parser.add_argument("--kafka-brokers", default=os.environ.get("PINOT_KAFKA_BROKERS", "127.0.0.1:9092"))
    parser.add_argument("--replicas", default=os.environ.get("PINOT_REPLICAS", "1"))
    args = parser.parse_args(argv)
    streams = load(args.debezium_dir, args.pinot_dir, args.views_dir)
    if not re.fullmatch(r"[1-9][0-9]*", str(args.replicas)):
        streams.problems.append(Problem("PINOT_REPLICAS", f"must be a positive integer, is '{args.replicas}'"))
    for problem in streams.problems:
        print(problem)
    if streams.problems:
        return 2
    if args.command == "render":
        if args.out is None:
            parser.error("render needs the folder to write")
        render(streams, args.out, args.kafka_brokers, int(args.replicas))
    print(f"validated {len(streams.connectors)} connector file(s) and {len(streams.streams)} Pinot table(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How each PostgreSQL column type travels to the view, exactly: the one place that says it.

A value goes PostgreSQL → Debezium (JSON, with the connector settings below) → Kafka → a Pinot
column, filled by an ingestion transform → the view in Trino, which turns the Pinot column back into
the natural Trino type. `carriage(column)` gives every step for one column; docs/adding-a-stream.md
shows the same as a table, and `tests/live/test_value_fidelity.py` proves it value for value.

It relies on CONNECTOR_SETTINGS, which every stream's connector sets (debezium/shared/postgres.json;
realtime_platform/stream_config.py refuses a connector without them).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# What every connector must set so that values arrive exactly (see CARRIAGES for why each).
CONNECTOR_SETTINGS = {
    "decimal.handling.mode": "string",  # NUMERIC as its exact decimal text (not a double, not base64)
    "time.precision.mode": "adaptive_time_microseconds",  # keeps microseconds of TIME and TIMESTAMP(4-6)
    "binary.handling.mode": "hex",  # BYTEA as hex text
    # An explicit NULL stays NULL: without this, Kafka's JsonConverter writes a column's DEFAULT instead.
    "value.converter.replace.null.with.default": "false",
}

# Pinot 0.11 has no usable NULL for the Trino connector, so a nullable column stores a sentinel for
# NULL (the Pinot field's defaultNullValue, which Pinot writes when the transform gives null) and the
# view turns it back with NULLIF. A real value equal to the sentinel would read as NULL; the content
# reconciliation of data_quality then fails naming key and column, so it cannot pass unseen.
STRING_NULL = "\uffff"  # a Unicode noncharacter: reserved for exactly this internal use
TRINO_STRING_NULL = "U&'\\FFFF'"
LONG_NULL = -(2**63)  # Pinot's own default null for LONG
INT_NULL = -(2**31)  # and for INT
FLOAT_NULL = "-Infinity"  # and for FLOAT and DOUBLE (JSON cannot carry an infinity, so no real value is one)

# PostgreSQL's own limit on one value (1 GB): Pinot's STRING columns must not cut anything shorter.
STRING_MAX_LENGTH = 2**30 - 1

# Columns every stream's Pinot table adds from the change event; a source column may not take these names.
PLATFORM_COLUMNS = ("op", "deleted", "lsn", "ts_ms", "payload")


class UnsupportedColumn(ValueError):
    """A column whose type the platform cannot carry exactly; the message names column and type."""


@dataclass(frozen=True)
class PostgresColumn:
    name: str
    type: str  # as format_type() gives it: 'numeric(18,4)', 'timestamp(3) without time zone', 'text[]'
    nullable: bool = True
    enum: bool = False  # a user-defined ENUM type (its name is in `type`)


@dataclass(frozen=True)
class Carriage:
    """Every step of one column's way to the view."""

    column: str
    postgres_type: str
    debezium: str  # what Debezium sends, in words
    pinot_type: str  # the Pinot field's dataType
    transform: str  # the Pinot ingestion transform
    view: str  # the view's expression over the Pinot column
    trino_type: str  # the view column's type
    null_value: object = None  # the Pinot field's defaultNullValue, when nullable

    def pinot_field(self) -> dict:
        field: dict[str, str | int] = {"name": self.column, "dataType": self.pinot_type}
        if self.pinot_type == "STRING":
            # Pinot cuts longer strings to maxLength (512 by default) without a word.
            field["maxLength"] = STRING_MAX_LENGTH
        if self.null_value is not None:
            field["defaultNullValue"] = str(self.null_value)  # text: jq and JSON parsers keep it exact
        return field


@dataclass(frozen=True)
class _Rule:
    debezium: str
    pinot_type: str
    transform: str  # over {path}: "$.after.<column>"
    view: str  # over {c}: the Pinot column (already NULLIF'ed when nullable)
    trino_type: str
    sample: object = None  # a value as Debezium sends it (for trying a table's transforms before posting)


# jsonPath gives null for a JSON null or a missing field (a delete has no `after`), so Pinot writes
# the field's defaultNullValue; jsonPathString would write the text 'null' instead.
_STRING = _NUMBER = "jsonPath(payload, '{path}')"


def _numeric(precision: int | None, scale: int | None) -> _Rule:
    if precision is None:
        # An unconstrained NUMERIC keeps each value's own scale: only text holds that exactly.
        return _Rule("the exact decimal as a string", "STRING", _STRING, "{c}", "varchar", "12.5")
    if precision > 38:
        raise ValueError(f"numeric({precision},{scale}): Trino's decimal holds at most 38 digits")
    trino = f"decimal({precision},{scale or 0})"
    sample = "1." + "0" * (scale or 0) if scale else "1"
    return _Rule("the exact decimal as a string", "STRING", _STRING, f"CAST({{c}} AS {trino})", trino, sample)


def _timestamp(precision: int) -> _Rule:
    # adaptive_time_microseconds: TIMESTAMP(0-3) as epoch milliseconds, TIMESTAMP(4-6) as microseconds.
    per_unit = "1000000" if precision <= 3 else "1000"
    unit = "milliseconds" if precision <= 3 else "microseconds"
    return _Rule(f"epoch {unit}", "LONG", _NUMBER,
                 f"CAST(from_unixtime_nanos({{c}} * {per_unit}) AT TIME ZONE 'UTC' AS timestamp({precision}))",
                 f"timestamp({precision})", 1704110400123 if precision <= 3 else 1704110400123456)



_RULES: dict[str, _Rule] = {
    "smallint": _Rule("a JSON number", "INT", _NUMBER, "CAST({c} AS smallint)", "smallint", 7),
    "integer": _Rule("a JSON number", "INT", _NUMBER, "{c}", "integer", 7),
    "bigint": _Rule("a JSON number", "LONG", _NUMBER, "{c}", "bigint", 7),
    "real": _Rule("a JSON number", "FLOAT", _NUMBER, "{c}", "real", 1.5),
    "double precision": _Rule("a JSON number", "DOUBLE", _NUMBER, "{c}", "double", 1.5),
    # Pinot's BOOLEAN has no room for a NULL sentinel: the text 'true'/'false' does.
    "boolean": _Rule("true/false", "STRING", _STRING, "CAST({c} AS boolean)", "boolean", True),
    "text": _Rule("a string", "STRING", _STRING, "{c}", "varchar", "text"),
    "character varying": _Rule("a string", "STRING", _STRING, "{c}", "varchar", "text"),
    "uuid": _Rule("a string", "STRING", _STRING, "CAST({c} AS uuid)", "uuid", "6f1c0d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f"),
    # The source's own JSON text: Trino's json type would reorder keys and respell numbers.
    "json": _Rule("its text as a string", "STRING", _STRING, "{c}", "varchar", '{"a": 1}'),
    "jsonb": _Rule("its text as a string", "STRING", _STRING, "{c}", "varchar", '{"a": 1}'),
    "bytea": _Rule("hex text", "STRING", _STRING, "from_hex({c})", "varbinary", "00ff"),
    "date": _Rule("days since 1970-01-01", "INT", _NUMBER, "date_add('day', {c}, DATE '1970-01-01')", "date",
                  19723),
    "timestamp with time zone": _Rule(
        "ISO-8601 text in UTC", "STRING", _STRING,
        "CAST(from_iso8601_timestamp_nanos({c}) AS timestamp(6) with time zone)", "timestamp(6) with time zone",
        "2024-01-01T12:00:00.123456Z"),
    "time without time zone": _Rule(
        "microseconds since midnight", "LONG", _NUMBER,
        "CAST(from_unixtime_nanos({c} * 1000) AT TIME ZONE 'UTC' AS time(6))", "time(6)", 45296123456),
}
# Arrays are refused: Pinot 0.11's JSON record extractor drops NULL and empty-string elements and
# turns an empty array into NULL (RecordExtractor.convertMultiValue), before any transform runs.
UNCARRIED = {"[]": "arrays lose their NULL and empty elements in Pinot 0.11's JSON reader"}
_ENUM = _Rule("its label as a string", "STRING", _STRING, "{c}", "varchar", "label")

_NULL_VALUES = {"STRING": STRING_NULL, "LONG": LONG_NULL, "INT": INT_NULL, "FLOAT": FLOAT_NULL,
                "DOUBLE": FLOAT_NULL}
_TRINO_NULLS = {"STRING": TRINO_STRING_NULL, "LONG": f"BIGINT '{LONG_NULL}'", "INT": str(INT_NULL),
                "FLOAT": "REAL '-Infinity'", "DOUBLE": "-infinity()"}

_WITH_PRECISION = re.compile(r"^(?P<base>[a-z ]+)\((?P<args>[0-9, ]+)\)(?P<rest>[a-z ]*)$")


def _rule(column: PostgresColumn) -> _Rule:
    if column.enum:
        return _ENUM
    pg_type = column.type.strip().lower()
    if pg_type in _RULES:
        return _RULES[pg_type]
    if pg_type.endswith("[]"):
        raise UnsupportedColumn(f"column {column.name!r}: PostgreSQL type {column.type!r} is not carried exactly: "
                                f"{UNCARRIED['[]']}")
    if pg_type == "numeric":
        return _numeric(None, None)
    if pg_type == "timestamp without time zone":
        return _timestamp(6)
    if match := _WITH_PRECISION.match(pg_type):
        base, rest = match["base"].strip(), match["rest"].strip()
        args = [int(a) for a in match["args"].split(",")]
        if base == "numeric":
            return _numeric(args[0], args[1] if len(args) > 1 else 0)
        if base == "timestamp" and rest == "without time zone":
            return _timestamp(args[0])
        if base == "timestamp" and rest == "with time zone":
            return _RULES["timestamp with time zone"]
        if base == "time" and rest == "without time zone":
            return _RULES["time without time zone"]
        if base == "character varying":
            return _RULES["character varying"]
    raise UnsupportedColumn(f"column {column.name!r}: PostgreSQL type {column.type!r} is not carried exactly "
                            f"(supported: {', '.join(sorted(_RULES))}, numeric(p,s), timestamp(p), enums)")


def sample_value(column: PostgresColumn) -> object:
    """A value of the column as Debezium sends it; None for a type the platform does not carry."""
    try:
        return _rule(column).sample
    except ValueError:
        return None


def carriage(column: PostgresColumn) -> Carriage:
    """How `column` travels to the view; raises UnsupportedColumn naming the column and its type."""
    if column.name in PLATFORM_COLUMNS:
        raise UnsupportedColumn(f"column {column.name!r}: the name is taken by the platform's own columns "
                                f"({', '.join(PLATFORM_COLUMNS)})")
    try:
        rule = _rule(column)
    except ValueError as error:
        if isinstance(error, UnsupportedColumn):
            raise
        raise UnsupportedColumn(f"column {column.name!r}: {error}") from error
    pinot_column = column.name
    if column.nullable:
        pinot_column = f"NULLIF({column.name}, {_TRINO_NULLS[rule.pinot_type]})"
    view = rule.view.format(c=pinot_column)
    return Carriage(
        column=column.name, postgres_type=column.type, debezium=rule.debezium, pinot_type=rule.pinot_type,
        transform=rule.transform.replace("{path}", f"$.after.{column.name}"),
        view=view if view == column.name else f"{view} AS {column.name}",
        trino_type=rule.trino_type,
        null_value=_NULL_VALUES[rule.pinot_type] if column.nullable else None)


# --- Canonical text: how data_quality compares a value of PostgreSQL with the view's -------------
# Both engines turn each value into the same text, so a hash of a row's text can be compared per key
# bucket (realtime_platform/key_buckets.py). The rules, one per family of types:
#   numbers, booleans, text, UUIDs, enums, JSON text: their plain text;
#   numeric(p,s) and decimal(p,s): the decimal with its scale's digits ('12.3400');
#   real and double: the hex of their IEEE 754 bits (exact, no formatting differences);
#   date 'YYYY-MM-DD'; time 'HH:MM:SS.ffffff'; timestamps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (a
#   timestamp without time zone is taken as UTC, the platform's convention);
#   bytea and varbinary: lower-case hex; arrays: their compact JSON text ('["a",null]').

def postgres_text(column: str, pg_type: str) -> str:
    """SQL giving the canonical text of PostgreSQL column `column` of type `pg_type` (NULL stays NULL)."""
    t = pg_type.strip().lower()
    if t == "real":
        return f"encode(float4send({column}), 'hex')"
    if t == "double precision":
        return f"encode(float8send({column}), 'hex')"
    if t == "date":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if t.startswith("timestamp") and t.endswith("with time zone") and "without" not in t:
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    if t.startswith("timestamp"):
        return f"to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')"
    if t.startswith("time"):
        return f"to_char({column}, 'HH24:MI:SS.US')"
    if t == "bytea":
        return f"encode({column}, 'hex')"
    if t.endswith("[]"):
        return f"array_to_json({column})::text"
    return f"{column}::text"


def trino_text(column: str, trino_type: str) -> str:
    """SQL giving the canonical text of Trino column `column` of type `trino_type` (NULL stays NULL)."""
    t = trino_type.strip().lower()
    if t == "real":
        return f"lower(to_hex(to_ieee754_32({column})))"
    if t == "double":
        return f"lower(to_hex(to_ieee754_64({column})))"
    if t.startswith("timestamp") and t.endswith("with time zone"):
        return f"CAST(CAST({column} AT TIME ZONE 'UTC' AS timestamp(6)) AS varchar)"
    if t.startswith("timestamp"):
        return f"CAST(CAST({column} AS timestamp(6)) AS varchar)"
    if t.startswith("time"):
        return f"CAST(CAST({column} AS time(6)) AS varchar)"
    if t == "varbinary":
        return f"lower(to_hex({column}))"
    if t.startswith("array"):
        return f"json_format(CAST({column} AS json))"
    if t == "json":
        return f"json_format({column})"
    return f"CAST({column} AS varchar)"


def is_free_text(pg_type: str, enum: bool = False) -> bool:
    """Whether a column's canonical text may hold any character, the separator '|' too. Numbers,
    dates, times, UUIDs, booleans and hex cannot, and they cannot be '-' either."""
    t = pg_type.strip().lower()
    return enum or t in ("text", "json", "jsonb") or t.startswith(("character", "varchar"))


def row_text(texts: list[tuple[str, bool]], engine: str) -> str:
    """SQL of one row's canonical text from (column text SQL, free text) pairs, joined by '|': a free
    text is prefixed by its length in UTF-8 bytes (so no separator in a value can shift columns), any
    other text stands as it is; NULL is '-'."""
    if engine == "trino":
        parts = [f"coalesce(CAST(length(to_utf8({t})) AS varchar) || ':' || {t}, '-')" if free
                 else f"coalesce({t}, '-')" for t, free in texts]
        return _trino_concat(parts)
    parts = [f"coalesce(octet_length({t})::text || ':' || {t}, '-')" if free else f"coalesce({t}, '-')"
             for t, free in texts]
    return " || '|' || ".join(parts) if parts else "''"


def _trino_concat(parts: list[str], per_call: int = 100) -> str:
    """Trino's concat() of the parts with '|' between them: one call builds the text once, where a
    chain of || copies it at every step (a fifth of the hashing's time); a call takes at most 254
    arguments, so a wide row nests calls."""
    if not parts:
        return "''"
    if len(parts) == 1:
        return parts[0]
    if len(parts) <= per_call:
        return "concat(" + ", '|', ".join(parts) + ")"
    return _trino_concat([_trino_concat(parts[i:i + per_call]) for i in range(0, len(parts), per_call)])


def row_digest(texts: list[tuple[str, bool]], engine: str) -> str:
    """SQL of the row's digest: the first 64 bits of the MD5 of its canonical text (UTF-8 bytes), as a
    signed bigint. Refer to it once per query: PostgreSQL copies a flattened subquery's expression into
    each place that uses it, and would hash every row once per use."""
    text = row_text(texts, engine)
    if engine == "trino":
        return f"from_big_endian_64(substr(md5(to_utf8({text})), 1, 8))"
    return f"('x' || substr(md5({text}), 1, 16))::bit(64)::bigint"


def digest_sums(digest: str, engine: str) -> list[str]:
    """Aggregates that sum row digests exactly: PostgreSQL sums bigints into a numeric; Trino's sum of
    bigints fails on overflow, so it sums the signed upper and the unsigned lower 32 bits apart
    (`digest_total` joins the two)."""
    if engine == "trino":
        return [f"sum(bitwise_right_shift_arithmetic({digest}, 32))", f"sum(bitwise_and({digest}, 4294967295))"]
    return [f"sum({digest})"]


def digest_total(sums: list[int] | tuple[int, ...]) -> int:
    """The sum of the row digests from what `digest_sums` returned."""
    return sums[0] if len(sums) == 1 else sums[0] * 2**32 + sums[1]


def row_digest_value(texts: list[str | None], free: list[bool] | None = None) -> int:
    """In Python, what row_digest computes in SQL (for tests and in-memory sides); `free` says which
    texts are free text (all, by default)."""
    free = [True] * len(texts) if free is None else free
    text = "|".join("-" if t is None else f"{len(t.encode())}:{t}" if f else t for t, f in zip(texts, free))
    digest = hashlib.md5(text.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)

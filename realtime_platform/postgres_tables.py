"""What PostgreSQL says about a source table: its columns (type, nullability, enum or not) and key."""

from __future__ import annotations

from collections.abc import Callable

from realtime_platform.column_types import PostgresColumn

# Columns in table order, with format_type's spelling ('numeric(18,4)', 'text[]'); typtype 'e' is an ENUM.
COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, t.typtype = 'e'
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %(table)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = %(table)s::regclass AND i.indisprimary
ORDER BY array_position(i.indkey, a.attnum)
"""

Fetch = Callable[[str, dict], list]  # (sql, params) -> rows


def columns(fetch: Fetch, table: str) -> list[PostgresColumn]:
    """The columns of `table` (schema.table), through `fetch` (a psycopg or Airflow hook query)."""
    return [PostgresColumn(name, pg_type, bool(nullable), bool(enum))
            for name, pg_type, nullable, enum in fetch(COLUMNS_SQL, {"table": table})]


def primary_key(fetch: Fetch, table: str) -> list[str]:
    return [name for (name,) in fetch(PRIMARY_KEY_SQL, {"table": table})]

"""Running SQL on Trino with the `trino` DB-API client."""

from __future__ import annotations

import trino.dbapi

from realtime_platform.config import PlatformSettings


def connect(cfg: PlatformSettings, user: str | None = None) -> trino.dbapi.Connection:
    endpoint = cfg.trino
    return trino.dbapi.connect(host=endpoint.host, port=endpoint.port, user=user or cfg.trino_user,
                               http_scheme=endpoint.scheme)


def query(cfg: PlatformSettings, sql: str) -> list[tuple]:
    return run_once(connect(cfg), sql)


def run_once(connection, sql: str) -> list[tuple]:
    """One statement on a DB-API connection of Trino's, every row fetched; then the connection is closed."""
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()

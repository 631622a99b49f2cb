"""Running SQL on Trino with the `trino` DB-API client."""

from __future__ import annotations

from urllib.parse import urlparse

import trino

from realtime_platform.config import PlatformSettings


def connect(cfg: PlatformSettings, user: str = "platform") -> trino.dbapi.Connection:
    url = urlparse(cfg.trino_url)
    return trino.dbapi.connect(host=url.hostname, port=url.port, user=user, http_scheme=url.scheme)


def query(cfg: PlatformSettings, sql: str) -> list[tuple]:
    conn = connect(cfg)
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()

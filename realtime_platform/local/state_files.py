"""Secret files of the state folder, shared by the services that keep theirs there (Airflow,
Superset): private files (mode 600), keys generated once, libpq password files, and the passwords
they hold, read from the settings, the environment or `.env`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from realtime_platform.config import REPO_ROOT, PlatformSettings, Secrets


def secret(cfg: PlatformSettings, key: str) -> str:
    """A secret by its variable (AIRFLOW_DB_PASSWORD): the settings' (`cfg.secrets`); one they do not
    have (e.g. a stand-in application's) from the environment, else from `.env`."""
    field = next((name for name, info in Secrets.model_fields.items() if info.validation_alias == key), None)
    if field is not None:
        setting: SecretStr = getattr(cfg.secrets, field)
        return setting.get_secret_value()
    if os.environ.get(key):
        return os.environ[key]
    from dotenv import dotenv_values  # python-dotenv, a dependency of pydantic-settings

    value = dotenv_values(REPO_ROOT / ".env").get(key)
    if value:
        return value
    raise RuntimeError(f"{key} is not set: add it to .env (realtime_platform/local/secrets.py "
                       f"generates it) or to the environment")


def write_private(path: Path, text: str) -> None:
    """Writes `text` to a file only its owner can read (created with mode 600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def write_once(path: Path, make: Callable[[], str]) -> None:
    """A generated key: written the first time, kept afterwards (sessions and tokens survive)."""
    if not path.exists() or not path.read_text():
        write_private(path, make())


def pgpass_line(cfg: PlatformSettings, database: str, user: str, password: str) -> str:
    """One line of a libpq password file for the platform's PostgreSQL (`:` and `\\` escaped)."""
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"{cfg.bind_host}:{cfg.ports.postgres}:{database}:{user}:{escaped}\n"


def can_log_in(cfg: PlatformSettings, database: str, user: str, password: str) -> bool:
    """Whether `user` logs in to `database` of the platform's PostgreSQL (e.g. its init ran)."""
    import psycopg

    try:
        with psycopg.connect(host=cfg.bind_host, port=cfg.ports.postgres, dbname=database, user=user,
                             password=password, connect_timeout=3):
            return True
    except psycopg.Error:
        return False

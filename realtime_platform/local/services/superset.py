"""Superset 6.1 in the local mode: one supervisord program (gunicorn), after Trino.

Superset needs SQLAlchemy 1.4 (the platform's venv has 2.x), so it runs from its own venv,
`.venv-superset`, built with uv from the pins in superset/requirements.txt (rebuilt when that file
changes). Its settings are superset/superset_config.py, fed by environment variables that carry no
secret: the secret key is generated once into a file of mode 600 in the state folder, the metadata
database (`superset` on the platform's PostgreSQL, role `superset`, created by
postgres/init/030-superset.sql) is reached with a libpq password file, and the admin password
(SUPERSET_ADMIN_PASSWORD in .env) is written to a 600 file for superset/sync.py.

Start-up: `prepare_superset` builds the venv and the state files and, when the metadata database
already answers and is not at this version's migration head, runs `superset db upgrade` +
`superset init` (on the very first `up` PostgreSQL is not running yet, so the program checks and
does it before starting gunicorn). Once Superset answers, `on_healthy` waits for Trino and runs superset/sync.py:
admin user, idempotent import of the dashboards bundle (superset/bundle, matched by uuid).
"""

from __future__ import annotations

import os
import re
import shlex
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.python_app import (
    AppPaths,
    PythonApp,
    migrate_if_reachable,
    migrate_then,
    run_checked,
    write_home,
)
from realtime_platform.local.services.base import Service
from realtime_platform.local.state_files import secret, write_once, write_private
from realtime_platform.side_venv import SideVenv

SUPERSET_STAGE = 3  # after Trino (stage 2): the import lists Trino's catalogs; before Airflow (10)
START_TIMEOUT_S = 600  # the first start migrates the metadata database (~1-3 min on 2 cores)
PYTHON_VERSION = "3.11"

DB_NAME = "superset"  # see postgres/init/030-superset.sql
DB_USER = "superset"
ADMIN_USER = "admin"
TRINO_CATALOG = "hive"

SOURCE = REPO_ROOT / "superset"
REQUIREMENTS = SOURCE / "requirements.txt"
CONFIG = SOURCE / "superset_config.py"
BUNDLE = SOURCE / "bundle"
SYNC_SCRIPT = SOURCE / "sync.py"
VENV = SideVenv(REPO_ROOT / ".venv-superset", REQUIREMENTS, entry_point="superset")


@dataclass(frozen=True)
class SupersetPaths(AppPaths):
    @property
    def secret_key(self) -> Path:
        """Signs sessions and encrypts stored database passwords: generated once, never rotated."""
        return self.secrets / "secret_key"

    @property
    def admin_password(self) -> Path:
        return self.secrets / "admin_password"

    @property
    def bundle_zip(self) -> Path:
        """superset/bundle with the Trino URI of this machine, as imported."""
        return self.home / "bundle.zip"


def superset_paths(paths: StatePaths) -> SupersetPaths:
    return SupersetPaths(paths.root / "superset")


def superset_app(paths: StatePaths) -> PythonApp:
    sp = superset_paths(paths)
    return PythonApp(name="superset", executable=venv_bin("superset"), paths=sp,
                     migrations=(("db", "upgrade"), ("init",)),
                     # alembic's `current` marks the database's revision "(head)" when it is this
                     # version's newest; a fresh database prints no revision at all
                     at_head=f"{shlex.quote(str(venv_bin('superset')))} db current 2>/dev/null | grep -q '(head)'",
                     db_name=DB_NAME, db_user=DB_USER, pgpass_database=DB_NAME)


def superset_version() -> str:
    match = re.search(r"^apache-superset==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE)
    return match.group(1) if match else "unknown"


def superset_url(cfg: PlatformSettings) -> str:
    return os.environ.get("SUPERSET_URL") or cfg.superset.url


def venv_bin(name: str) -> Path:
    return VENV.bin(name)


def trino_sqlalchemy_uri(cfg: PlatformSettings) -> str:
    return f"trino://{cfg.trino_user}@{cfg.trino.host_port}/{TRINO_CATALOG}"


def metadata_uri(cfg: PlatformSettings) -> str:
    # No password: libpq (psycopg2) reads it from PGPASSFILE.
    return f"postgresql+psycopg2://{DB_USER}@{cfg.bind_host}:{cfg.ports.postgres}/{DB_NAME}"


def superset_environment(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    """Every setting of the Superset processes; no secret values (they are in files)."""
    sp = superset_paths(paths)
    return {
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "SUPERSET_HOME": str(sp.home),
        "SUPERSET_SECRET_KEY_FILE": str(sp.secret_key),
        "SUPERSET_ADMIN_PASSWORD_FILE": str(sp.admin_password),
        "SUPERSET_METADATA_URI": metadata_uri(cfg),
        "PGPASSFILE": str(sp.pgpass),
        "FLASK_APP": "superset",
        "PATH": f"{VENV.path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }


def subprocess_environment(cfg: PlatformSettings, paths: StatePaths) -> dict[str, str]:
    """The environment for running `superset ...` by hand or from a test, as the service sees it."""
    env = {**os.environ, **superset_environment(cfg, paths)}
    env.pop("VIRTUAL_ENV", None)
    return env


# --- the venv -------------------------------------------------------------------------------------

def ensure_venv() -> Path:
    """`.venv-superset` from superset/requirements.txt (uv, ~15 s with a warm cache, ~660 MB)."""
    return VENV.ensure()


# --- state files and the bundle -------------------------------------------------------------------

def write_state_files(cfg: PlatformSettings, paths: StatePaths) -> SupersetPaths:
    import secrets as random

    sp = superset_paths(paths)
    write_home(superset_app(paths), cfg)
    write_once(sp.secret_key, lambda: random.token_urlsafe(48))
    write_private(sp.admin_password, secret(cfg, "SUPERSET_ADMIN_PASSWORD"))
    return sp


def build_bundle(cfg: PlatformSettings, target: Path, source: Path = BUNDLE) -> Path:
    """Zips superset/bundle as an export bundle, with the database URI pointed at this Trino."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(source.rglob("*.yaml")):
            relative = file.relative_to(source)
            text = file.read_text()
            if relative.parts[0] == "databases":
                data = yaml.safe_load(text)
                data["sqlalchemy_uri"] = trino_sqlalchemy_uri(cfg)
                text = yaml.safe_dump(data, sort_keys=False)
            archive.writestr(f"bundle/{relative}", text)
    return target


# --- the program ----------------------------------------------------------------------------------

def superset_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    sp = superset_paths(paths)
    gunicorn = " ".join(shlex.quote(a) for a in [
        str(venv_bin("gunicorn")), "--bind", cfg.superset.host_port,
        "--workers", "1", "--threads", "8", "--timeout", "120",
        "--limit-request-line", "0", "--limit-request-field_size", "0",
        "superset.app:create_app()"])
    script = migrate_then(superset_app(paths), f"exec {gunicorn}")
    return Service("superset", ["/bin/sh", "-c", script],
                   health.http(f"{cfg.superset.url}/health"),
                   stage=SUPERSET_STAGE, start_timeout_s=START_TIMEOUT_S, directory=sp.home,
                   environment=superset_environment(cfg, paths),
                   on_healthy=lambda: sync_superset(cfg, paths))


def sync_superset(cfg: PlatformSettings, paths: StatePaths) -> None:
    """Admin user and the dashboards bundle (idempotent; runs at every `up`, after Trino answers)."""
    health.wait_until_healthy("trino (for the Superset import)", health.trino_ready(cfg.trino.url), 240)
    sp = superset_paths(paths)
    write_state_files(cfg, paths)
    bundle = build_bundle(cfg, sp.bundle_zip)
    print(f"  importing {BUNDLE.relative_to(REPO_ROOT)} into Superset")
    result = run_checked([str(venv_bin("python")), str(SYNC_SCRIPT), str(bundle)], "superset/sync.py",
                         subprocess_environment(cfg, paths), sp.home, tail_lines=30, timeout=600)
    for line in result.stdout.splitlines():
        print(f"    {line}")


def prepare_superset(cfg: PlatformSettings, paths: StatePaths) -> None:
    """Before the program starts: the venv, the state files, and `superset db upgrade` + `init` when
    the metadata database answers and is not at this version's head (else the program checks and
    does it at start)."""
    ensure_venv()
    write_state_files(cfg, paths)
    migrate_if_reachable(superset_app(paths), cfg, subprocess_environment(cfg, paths),
                         at_start="the program upgrades it at start")


SUPERSET_SPECS = [(superset_service, prepare_superset)]

"""What the Python applications under supervisord (Airflow, Superset) share: a home in the state
folder with a private secrets folder, a metadata database on the platform's PostgreSQL reached
through a libpq password file, and migrations of that database, run whenever the database itself
is not at the application's migration head: fresh, restored from a backup, or older (the
application's own check reads the Alembic version stored in the database; no file outside it says so).

The migrations run before the program starts when PostgreSQL already answers (`migrate_if_reachable`);
on the very first `up` it does not yet, so the program's start script runs them (`migrate_then`).
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from realtime_platform.config import PlatformSettings
from realtime_platform.local.state_files import can_log_in, pgpass_line, secret, write_private


@dataclass(frozen=True)
class AppPaths:
    """An application's home in the state folder; each application adds its own files."""
    home: Path

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def pgpass(self) -> Path:
        """libpq password file of the application's PostgreSQL role (PGPASSFILE names it)."""
        return self.secrets / "pgpass"


@dataclass(frozen=True)
class PythonApp:
    """An application run by supervisord: its command, home, metadata database and migrations."""
    name: str  # its command's name, used in messages
    executable: Path  # the command the migrations run with
    paths: AppPaths
    migrations: tuple[tuple[str, ...], ...]  # the command's arguments, one migration step each
    # A shell command that exits 0 when the metadata database is at this version's migration head
    # (the application's own check; it fails too when the database cannot be reached)
    at_head: str
    db_name: str
    db_user: str
    pgpass_database: str  # the database field of the pgpass line: `*` lets the role read others too

    @property
    def db_password_variable(self) -> str:
        """The variable of the role's password (AIRFLOW_DB_PASSWORD for `airflow`: `cfg.secrets.airflow_db`)."""
        return f"{self.name}_db_password".upper()

    def migration_commands(self) -> list[list[str]]:
        return [[str(self.executable), *args] for args in self.migrations]


def write_home(app: PythonApp, cfg: PlatformSettings) -> None:
    """The home, its secrets folder (owner only) and the password file, rewritten: it follows .env."""
    app.paths.home.mkdir(parents=True, exist_ok=True)
    app.paths.secrets.mkdir(parents=True, exist_ok=True)
    app.paths.secrets.chmod(0o700)
    write_private(app.paths.pgpass, pgpass_line(cfg, app.pgpass_database, app.db_user,
                                                secret(cfg, app.db_password_variable)))


def metadata_db_reachable(app: PythonApp, cfg: PlatformSettings) -> bool:
    return can_log_in(cfg, app.db_name, app.db_user, secret(cfg, app.db_password_variable))


def run_checked(command: list[str], what: str, env: dict[str, str], cwd: Path,
                tail_lines: int = 20, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Runs `command` with its output captured; when it fails, the error carries the output's end
    (supervisord does not run it, so its log is nowhere else)."""
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-tail_lines:])
        raise RuntimeError(f"{what} failed:\n{tail}")
    return result


def run_migration(app: PythonApp, env: dict[str, str]) -> None:
    """Every migration step in order (each a no-op when up to date)."""
    for command, args in zip(app.migration_commands(), app.migrations):
        run_checked(command, f"{app.name} {' '.join(args)}", env, app.paths.home)


def at_head(app: PythonApp, env: dict[str, str]) -> bool:
    """Whether the metadata database is at this version's migration head, as the application says."""
    return subprocess.run(["/bin/sh", "-c", app.at_head], env=env, cwd=app.paths.home,
                          capture_output=True, check=False).returncode == 0


def migrate_if_reachable(app: PythonApp, cfg: PlatformSettings, env: dict[str, str],
                         at_start: str) -> None:
    """The migrations, when the metadata database answers and is not at the head; else `at_start`
    says which program runs them when it starts."""
    if not metadata_db_reachable(app, cfg):
        print(f"  {app.name} metadata database not reachable yet: {at_start}")
    elif at_head(app, env):
        print(f"  {app.name} metadata database at its migration head")
    else:
        print(f"  {app.name} {' + '.join(' '.join(args) for args in app.migrations)}")
        run_migration(app, env)


def migrate_then(app: PythonApp, command: str) -> str:
    """A shell script: the migrations unless the database is at the head, then `command`."""
    migrate = " && ".join(shlex.join(c) for c in app.migration_commands())
    return f"{{ {app.at_head} || {{ {migrate}; }}; }} && {command}"

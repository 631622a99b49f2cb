#!/usr/bin/env bash
# Compose service `airflow-init`, before every other Airflow service: the files they share in the
# airflow-secrets volume, then `airflow db migrate`. Mirrors realtime_platform/local/airflow_services.py:
# keys are generated once and kept; passwords follow .env at every run; no secret value is put into the
# environment of the long-running services (they read these files: *_CMD options, PGPASSFILE).
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set (.env)}"
: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD is not set (.env)}"
umask 077

python - /opt/airflow/secrets <<'PY'
import base64, json, os, secrets, sys
from pathlib import Path

folder = Path(sys.argv[1])

def once(name, make):
    path = folder / name
    if not path.exists() or not path.read_text().strip():
        path.write_text(make())

once("fernet_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode())
once("jwt_secret", lambda: secrets.token_urlsafe(64))  # 64 bytes at least: JWTs are signed with HMAC-SHA512
once("api_secret_key", lambda: secrets.token_urlsafe(64))
(folder / "simple_auth_manager_passwords.json").write_text(
    json.dumps({"admin": os.environ["AIRFLOW_ADMIN_PASSWORD"]}))
password = os.environ["AIRFLOW_DB_PASSWORD"].replace("\\", "\\\\").replace(":", "\\:")
# libpq and asyncpg read it: the metadata database and the postgres_app connection (role `airflow`).
(folder / "pgpass").write_text(f"postgres:5432:*:airflow:{password}\n")
PY

exec airflow db migrate

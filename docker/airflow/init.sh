#!/usr/bin/env bash
# Compose service `airflow-init`, before every other Airflow service: the files they share in the
# airflow-secrets volume, then `airflow db migrate`. Mirrors realtime_platform/local/services/airflow.py:
# keys are generated once and kept; passwords follow .env at every run; no secret value is put into the
# environment of the long-running services (they read these files: *_CMD options, PGPASSFILE).
set -euo pipefail
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set (.env)}"
: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD is not set (.env)}"
: "${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID is not set (.env)}"
: "${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY is not set (.env)}"
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
# The catalog's recipes (realtime_platform.catalog reads CATALOG_SECRETS_FILE, a dotenv file).
catalog = {"AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
           "SUPERSET_PASSWORD": os.environ.get("SUPERSET_ADMIN_PASSWORD", ""),
           "DATAHUB_GMS_TOKEN": os.environ.get("DATAHUB_GMS_TOKEN", "")}
(folder / "catalog.env").write_text("".join(f"{k}={json.dumps(v)}\n" for k, v in catalog.items() if v))
PY

exec airflow db migrate

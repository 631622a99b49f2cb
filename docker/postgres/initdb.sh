#!/usr/bin/env bash
# The postgres image runs this file from /docker-entrypoint-initdb.d on its first start (empty data
# volume), with a temporary server on the Unix socket; the `postgres-init` job runs it again on every
# `up`, over TCP (PGHOST), so that the roles' passwords follow .env. It applies the repository's postgres/init/*.sql
# (mounted at /platform/postgres-init) the way the local mode does (realtime_platform/local/services/postgres.py):
# psql with ON_ERROR_STOP and the `dbname` variable the scripts use, 001-* against `postgres`, the rest
# against the application database; DEBEZIUM_USER, DEBEZIUM_PASSWORD and AIRFLOW_DB_PASSWORD come from
# the container's environment (the scripts read them with \getenv).
# A subshell: the image sources this file when it is not executable, and our shell options must not leak.
(
  set -euo pipefail
  for script in /platform/postgres-init/*.sql; do
    database="$POSTGRES_DB"
    [[ "$(basename "$script")" == 001-* ]] && database=postgres
    echo "initdb.sh: $(basename "$script") on $database"
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -v dbname="$POSTGRES_DB" \
      --username "$POSTGRES_USER" --dbname "$database" -f "$script"
  done
)

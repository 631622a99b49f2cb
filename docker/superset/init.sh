#!/usr/bin/env bash
# Compose service `superset-init`, before `superset`: schema migrations, the admin user (its password
# follows SUPERSET_ADMIN_PASSWORD in .env at every run), roles, and a database entry for Trino.
set -euo pipefail
: "${SUPERSET_ADMIN_PASSWORD:?SUPERSET_ADMIN_PASSWORD is not set (.env)}"

# The key that signs sessions and encrypts stored database passwords: made once, kept in the volume.
if [ ! -s "$SUPERSET_SECRET_KEY_FILE" ]; then
  (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(42))' > "$SUPERSET_SECRET_KEY_FILE")
fi

superset db upgrade
# create-admin leaves an existing user as it is; reset-password then applies the current password.
superset fab create-admin --username admin --firstname Superset --lastname Admin \
  --email admin@localhost --password "$SUPERSET_ADMIN_PASSWORD"
superset fab reset-password --username admin --password "$SUPERSET_ADMIN_PASSWORD"
superset init
# Trino federates Pinot and the hive catalog (Glue/S3); Superset lists both catalogs through it.
superset set-database-uri --database_name Trino --uri trino://superset@trino:8080/hive

"""Superset's settings, in both modes; the environment says where things are (local mode:
realtime_platform/local/services/superset.py; compose: the superset services' environment).
No secret is in this file or in the environment: the secret key is read from a file of mode 600
(local: the state folder; compose: the superset-home volume, where superset-init generates it),
and a metadata database's password from a libpq password file (PGPASSFILE), as for Airflow.
"""

import os
from pathlib import Path

SECRET_KEY = Path(os.environ["SUPERSET_SECRET_KEY_FILE"]).read_text().strip()
# postgresql+psycopg2://superset@host:port/superset (password from PGPASSFILE), or sqlite for tests.
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]

# One local user, one machine: no rate limiter storage, no example data, no telemetry.
RATELIMIT_ENABLED = False
AUTH_RATE_LIMITED = False
SUPERSET_LOAD_EXAMPLES = False
# The charts query Trino live; a short cache keeps dashboards close to the streaming data.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60}
# The UI is served on 127.0.0.1 over http only.
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
SESSION_COOKIE_SECURE = False
WTF_CSRF_ENABLED = True

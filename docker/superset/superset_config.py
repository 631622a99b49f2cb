"""Superset settings for the compose profile `superset` (copied into the image).

Metadata lives in SQLite in the superset-home volume. The secret key that signs sessions and
encrypts stored database passwords is generated on the first start and kept in that volume, so no
secret is written into compose.yaml or has to be added to .env.
"""

import os
import secrets
from pathlib import Path

_HOME = Path(os.environ.get("SUPERSET_HOME", "/app/superset_home"))
_KEY_FILE = _HOME / "secret_key"

if not _KEY_FILE.exists():
    _KEY_FILE.touch(mode=0o600)
    _KEY_FILE.write_text(secrets.token_urlsafe(42))

SECRET_KEY = _KEY_FILE.read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"

"""Secret files of the state folder: private modes, keys kept, libpq escaping, where passwords
come from."""

from __future__ import annotations

import stat
from types import SimpleNamespace

import pytest

from realtime_platform.local import state_files
from tests.conftest import make_settings


def test_private_file_is_600_even_over_a_wider_one(tmp_path):
    path = tmp_path / "sub" / "secret"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    state_files.write_private(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "new"


def test_generated_key_is_kept(tmp_path):
    path = tmp_path / "key"
    state_files.write_once(path, lambda: "first")
    state_files.write_once(path, lambda: "second")
    assert path.read_text() == "first"


def test_pgpass_line_escapes_separators():
    cfg = SimpleNamespace(bind_host="127.0.0.1", ports=SimpleNamespace(postgres=5432))
    assert state_files.pgpass_line(cfg, "db", "u", r"a:b\c") == "127.0.0.1:5432:db:u:a\\:b\\\\c\n"


def test_secrets_come_from_settings_then_environment_then_dotenv(tmp_path, monkeypatch):
    cfg = make_settings(tmp_path, airflow_db_password="from-settings")
    assert state_files.secret(cfg, "AIRFLOW_DB_PASSWORD") == "from-settings"
    # a password the settings do not have (a stand-in application's)
    monkeypatch.setattr(state_files, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("DEMO_DB_PASSWORD", "from-env")
    assert state_files.secret(cfg, "DEMO_DB_PASSWORD") == "from-env"
    monkeypatch.delenv("DEMO_DB_PASSWORD")
    (tmp_path / ".env").write_text("DEMO_DB_PASSWORD=from-dotenv\n")
    assert state_files.secret(cfg, "DEMO_DB_PASSWORD") == "from-dotenv"
    (tmp_path / ".env").unlink()
    with pytest.raises(RuntimeError, match="DEMO_DB_PASSWORD"):
        state_files.secret(cfg, "DEMO_DB_PASSWORD")


def test_cannot_log_in_where_nothing_listens():
    cfg = SimpleNamespace(bind_host="127.0.0.1", ports=SimpleNamespace(postgres=9))
    assert state_files.can_log_in(cfg, "db", "u", "p") is False

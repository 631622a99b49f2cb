"""Secret files of the state folder: private modes, keys kept, libpq escaping, where passwords
come from."""

from __future__ import annotations

import stat
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from realtime_platform.local import state_files


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
    cfg = SimpleNamespace(bind_host="127.0.0.1", postgres_port=5432)
    assert state_files.pgpass_line(cfg, "db", "u", r"a:b\c") == "127.0.0.1:5432:db:u:a\\:b\\\\c\n"


def test_secrets_come_from_settings_then_environment_then_dotenv(tmp_path, monkeypatch):
    assert state_files.secret(SimpleNamespace(airflow_db_password=SecretStr("from-settings")),
                              "airflow_db_password") == "from-settings"
    monkeypatch.setattr(state_files, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("AIRFLOW_DB_PASSWORD", "from-env")
    assert state_files.secret(SimpleNamespace(), "airflow_db_password") == "from-env"
    monkeypatch.delenv("AIRFLOW_DB_PASSWORD")
    (tmp_path / ".env").write_text("AIRFLOW_DB_PASSWORD=from-dotenv\n")
    assert state_files.secret(SimpleNamespace(), "airflow_db_password") == "from-dotenv"
    (tmp_path / ".env").unlink()
    with pytest.raises(RuntimeError, match="AIRFLOW_DB_PASSWORD"):
        state_files.secret(SimpleNamespace(), "airflow_db_password")


def test_cannot_log_in_where_nothing_listens():
    cfg = SimpleNamespace(bind_host="127.0.0.1", postgres_port=9)
    assert state_files.can_log_in(cfg, "db", "u", "p") is False

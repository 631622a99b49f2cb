"""Reset, backup and restore of the local state, on a state folder of small files (the live test,
tests/live/test_warehouse_durability.py, runs them on the real stack)."""

from __future__ import annotations

import json
import stat

import pytest

from realtime_platform.local import state_backup
from realtime_platform.local.paths import state_paths
from realtime_platform.local.state_backup import StateError
from tests.conftest import make_settings

FILES = {  # a file of each part, and what a reset keeps
    "data/postgres/base/1": False, "data/kafka/orders-0/00.log": False, "data/s3/bucket/x": False,
    "airflow/logs/dag_id=x/attempt=1.log": False, "airflow/airflow.cfg": False,
    "airflow/secrets/pgpass": True, "superset/secrets/secret_key": True, "superset/bundle.zip": False,
    "datahub/lite.db": False, "logs/kafka.log": False, "dist/trino-476/bin/launcher": True,
    "conf/trino/config.properties": True,
}


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setattr(state_backup, "ENV_FILE", tmp_path / "repo" / ".env")
    monkeypatch.setattr(state_backup, "VERSIONS_FILE", tmp_path / "repo" / "versions.env")
    monkeypatch.setattr(state_backup.supervisor, "daemon_running", lambda paths: False)
    monkeypatch.setattr(state_backup.processes, "stack_processes", lambda paths: [])
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "versions.env").write_text("# pins\nPINOT_VERSION=0.11.0\nTRINO_VERSION=476\n")
    (tmp_path / "repo" / ".env").write_text("POSTGRES_PASSWORD=first\n")
    cfg = make_settings(tmp_path / "state")
    fill(state_paths(cfg).root)
    return cfg


def fill(root, suffix: str = "") -> None:
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name + suffix)


def contents(root) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reset_wipes_the_data_and_keeps_downloads_configs_and_secrets(cfg):
    root = state_paths(cfg).root
    state_backup.reset(cfg, log=lambda line: None)
    assert contents(root) == {name: name for name, kept in FILES.items() if kept}


def test_backup_then_restore_on_a_reset_state_gives_back_every_file_and_env(cfg, tmp_path):
    root = state_paths(cfg).root
    (root / "superset/secrets/secret_key").chmod(0o600)
    before = contents(root)
    manifest = state_backup.backup(cfg, tmp_path / "backup", log=lambda line: None)
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700
    assert manifest["versions"] == {"PINOT_VERSION": "0.11.0", "TRINO_VERSION": "476"}
    assert manifest["topology"] == cfg.topology and manifest["sizes"]["data"] > 0

    fill(root, suffix=" changed later")  # writes after the backup
    state_backup.ENV_FILE.write_text("POSTGRES_PASSWORD=new clone\n")
    state_backup.reset(cfg, log=lambda line: None)
    state_backup.restore(cfg, tmp_path / "backup", log=lambda line: None)
    restored = contents(root)
    for name, text in before.items():  # downloads and configs are not in a backup: not put back
        assert restored[name] == (text + " changed later" if name.startswith(("dist/", "conf/")) else text)
    assert restored.keys() == before.keys()
    assert stat.S_IMODE((root / "superset/secrets/secret_key").stat().st_mode) == 0o600  # cp -a
    assert state_backup.ENV_FILE.read_text() == "POSTGRES_PASSWORD=first\n"
    assert (tmp_path / "repo" / ".env.before-restore").read_text() == "POSTGRES_PASSWORD=new clone\n"


def test_restore_refuses_another_version_and_changes_nothing(cfg, tmp_path):
    state_backup.backup(cfg, tmp_path / "backup", log=lambda line: None)
    state_backup.reset(cfg, log=lambda line: None)
    state_backup.VERSIONS_FILE.write_text("PINOT_VERSION=1.3.0\nTRINO_VERSION=476\n")
    root = state_paths(cfg).root
    before = contents(root)
    with pytest.raises(StateError, match=r"other versions: PINOT_VERSION 0\.11\.0 \(this clone: 1\.3\.0\)"):
        state_backup.restore(cfg, tmp_path / "backup", log=lambda line: None)
    assert contents(root) == before


def test_restore_refuses_to_mix_with_data_unless_asked_to_replace(cfg, tmp_path):
    state_backup.backup(cfg, tmp_path / "backup", log=lambda line: None)
    fill(state_paths(cfg).root, suffix=" newer")
    with pytest.raises(StateError, match=r"holds data: `make reset` first"):
        state_backup.restore(cfg, tmp_path / "backup", log=lambda line: None)
    state_backup.restore(cfg, tmp_path / "backup", replace=True, log=lambda line: None)
    assert (state_paths(cfg).data / "s3" / "bucket" / "x").read_text() == "data/s3/bucket/x"


def test_each_refuses_a_running_stack_and_backup_a_used_folder(cfg, tmp_path, monkeypatch):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    with pytest.raises(StateError, match="is not empty"):
        state_backup.backup(cfg, tmp_path / "used", log=lambda line: None)
    with pytest.raises(StateError, match="is not a platform backup"):
        state_backup.restore(cfg, tmp_path / "used", log=lambda line: None)
    (tmp_path / "used" / "manifest.json").write_text("{")
    with pytest.raises(StateError, match="is not valid JSON"):
        state_backup.restore(cfg, tmp_path / "used", log=lambda line: None)
    monkeypatch.setattr(state_backup.supervisor, "daemon_running", lambda paths: True)
    for action in (lambda: state_backup.reset(cfg), lambda: state_backup.backup(cfg, tmp_path / "new")):
        with pytest.raises(StateError, match="needs the stack stopped"):
            action()
    # supervisord gone, but a program it started still running (e.g. after kill -9 of supervisord)
    monkeypatch.setattr(state_backup.supervisor, "daemon_running", lambda paths: False)
    monkeypatch.setattr(state_backup.processes, "stack_processes", lambda paths: ["kafka"])
    monkeypatch.setattr(state_backup.processes, "describe", lambda found: "kafka (pid 42)")
    with pytest.raises(StateError, match=r"kafka \(pid 42\) still running\): run `make down` first"):
        state_backup.reset(cfg)
    assert not (tmp_path / "new").exists()


def test_the_manifest_is_json_with_the_commit(cfg, tmp_path):
    state_backup.backup(cfg, tmp_path / "backup", log=lambda line: None)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert set(manifest) == {"created_at", "topology", "versions", "commit", "sizes"}

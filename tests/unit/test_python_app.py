"""The shared skeleton of the Python applications under supervisord, with a stand-in application
whose command logs its arguments and fails on demand, and whose "metadata database" is a file:
`db upgrade` writes the version into it, `db current` prints it, "(head)" when it is the version's."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess

import pytest

from tests.conftest import make_settings
from realtime_platform.local import python_app
from realtime_platform.local.python_app import AppPaths, PythonApp

DB_PASSWORD = "demo:db\\secret"


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_DB_PASSWORD", DB_PASSWORD)  # no settings field: `secret` reads the environment
    return make_settings(tmp_path / "state")


def make_app(tmp_path, version: str = "1.0") -> PythonApp:
    """A stand-in `demo` command: logs its arguments (`db current` apart); prints 30 lines and fails
    when they are in FAIL."""
    calls, database = tmp_path / "calls.log", tmp_path / "database"
    executable = tmp_path / "bin" / f"demo-{version}"
    executable.parent.mkdir(exist_ok=True)
    executable.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "db current" ]; then v=$(cat {database} 2>/dev/null) || exit 0; '
        f'[ "$v" = "{version}" ] && echo "$v (head)" || echo "$v"; exit 0; fi\n'
        f'echo "$*" >> {calls}\n'
        'if [ "$*" = "$FAIL" ]; then for i in $(seq 1 30); do echo "line $i"; done; exit 1; fi\n'
        f'if [ "$*" = "db upgrade" ]; then echo {version} > {database}; fi\n')
    executable.chmod(0o755)
    home = tmp_path / "state" / "demo"
    return PythonApp(name="demo", executable=executable, paths=AppPaths(home),
                     migrations=(("db", "upgrade"), ("init",)),
                     at_head=f"{executable} db current | grep -q '(head)'",
                     db_name="demo", db_user="demo_user", pgpass_database="demo")


def calls(tmp_path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_write_home_keeps_the_password_file_private_and_follows_the_password(cfg, tmp_path, monkeypatch):
    app = make_app(tmp_path)
    python_app.write_home(app, cfg)
    assert stat.S_IMODE(app.paths.secrets.stat().st_mode) == 0o700
    assert stat.S_IMODE(app.paths.pgpass.stat().st_mode) == 0o600
    assert app.paths.pgpass.read_text() == "127.0.0.1:5432:demo:demo_user:demo\\:db\\\\secret\n"

    monkeypatch.setenv("DEMO_DB_PASSWORD", "rotated")
    python_app.write_home(dataclasses.replace(app, pgpass_database="*"), cfg)
    assert app.paths.pgpass.read_text() == "127.0.0.1:5432:*:demo_user:rotated\n"


def test_reachability_logs_in_as_the_role(cfg, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(python_app, "can_log_in", lambda *args: seen.append(args) or True)
    assert python_app.metadata_db_reachable(make_app(tmp_path), cfg)
    assert seen == [(cfg, "demo", "demo_user", DB_PASSWORD)]


def test_migration_runs_every_step_in_the_home(tmp_path):
    app = make_app(tmp_path)
    app.paths.home.mkdir(parents=True)
    assert not python_app.at_head(app, env())
    python_app.run_migration(app, env(FAIL="none"))
    assert calls(tmp_path) == ["db upgrade", "init"]
    assert python_app.at_head(app, env())


def test_a_failed_step_raises_with_the_end_of_its_output(tmp_path):
    app = make_app(tmp_path)
    app.paths.home.mkdir(parents=True)
    with pytest.raises(RuntimeError) as failure:
        python_app.run_migration(app, env(FAIL="db upgrade"))
    message = str(failure.value)
    assert message.startswith("demo db upgrade failed:\n")
    assert message.splitlines()[1:] == [f"line {i}" for i in range(11, 31)]  # the last 20 lines
    assert calls(tmp_path) == ["db upgrade"]  # `init` does not run after a failed upgrade
    assert not python_app.at_head(app, env())


def test_run_checked_returns_the_output_or_raises_with_as_many_lines_as_asked(tmp_path):
    script = ["/bin/sh", "-c", 'for i in $(seq 1 40); do echo "out $i"; done; echo oops >&2; exit $CODE']
    result = python_app.run_checked(script, "counting", env(CODE="0"), tmp_path)
    assert result.stdout.splitlines()[-1] == "out 40"
    with pytest.raises(RuntimeError) as failure:
        python_app.run_checked(script, "counting", env(CODE="3"), tmp_path, tail_lines=30)
    lines = str(failure.value).splitlines()
    assert lines[0] == "counting failed:"
    assert lines[1:] == [f"out {i}" for i in range(12, 41)] + ["oops"]


def test_prepare_migrates_a_database_that_is_not_at_the_head(cfg, tmp_path, monkeypatch, capsys):
    """Fresh, then at the head, then older than a newer version, then replaced by a fresh one (a
    data folder moved aside or restored): the database decides each time."""
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: True)
    app = make_app(tmp_path)
    app.paths.home.mkdir(parents=True)
    python_app.migrate_if_reachable(app, cfg, env(FAIL="none"), at_start="unused")
    assert "  demo db upgrade + init" in capsys.readouterr().out
    python_app.migrate_if_reachable(app, cfg, env(FAIL="none"), at_start="unused")
    assert capsys.readouterr().out == "  demo metadata database at its migration head\n"
    assert calls(tmp_path) == ["db upgrade", "init"]

    newer = make_app(tmp_path, version="1.1")
    python_app.migrate_if_reachable(newer, cfg, env(FAIL="none"), at_start="unused")
    assert calls(tmp_path) == ["db upgrade", "init"] * 2

    (tmp_path / "database").unlink()  # a new, empty database
    python_app.migrate_if_reachable(newer, cfg, env(FAIL="none"), at_start="unused")
    assert calls(tmp_path) == ["db upgrade", "init"] * 3


def test_prepare_leaves_the_migration_to_the_program_while_postgres_is_down(cfg, tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.setattr(python_app, "metadata_db_reachable", lambda *_: False)
    app = make_app(tmp_path)
    python_app.migrate_if_reachable(app, cfg, env(), at_start="the program does it")
    assert capsys.readouterr().out == "  demo metadata database not reachable yet: the program does it\n"
    assert calls(tmp_path) == []


def test_start_script_migrates_unless_at_the_head_then_runs_the_command(tmp_path):
    app = make_app(tmp_path)
    app.paths.home.mkdir(parents=True)
    script = python_app.migrate_then(app, f"exec {app.executable} serve")

    def run(**extra: str) -> int:
        return subprocess.run(["/bin/sh", "-c", script], env=env(**extra), timeout=30).returncode

    assert run(FAIL="db upgrade") != 0  # a failed step: no next step, no program
    assert calls(tmp_path) == ["db upgrade"]
    assert run(FAIL="none") == 0
    assert calls(tmp_path)[1:] == ["db upgrade", "init", "serve"]
    assert run(FAIL="none") == 0
    assert calls(tmp_path)[4:] == ["serve"]
    (tmp_path / "database").unlink()  # the data folder moved aside: migrated again
    assert run(FAIL="none") == 0
    assert calls(tmp_path)[5:] == ["db upgrade", "init", "serve"]

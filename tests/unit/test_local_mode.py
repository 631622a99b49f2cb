"""The local mode's pieces that need no running service: templates, secrets, supervisord config."""

from __future__ import annotations

import time
import sys
import configparser
import shlex

import psutil
import pytest

from tests.conftest import make_settings
from realtime_platform.config import PlatformSettings
from realtime_platform.local import health
from realtime_platform.local.health import HealthCheck
from realtime_platform.local.services import postgres
from realtime_platform.local.services.base import Service
from realtime_platform.local.services.pinot import pinot_values
from realtime_platform.conf_templates import TEMPLATES, render
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.secrets import GENERATED, ensure_env_file
from realtime_platform.local.supervisor import render_config


@pytest.fixture
def cfg(tmp_path, monkeypatch) -> PlatformSettings:
    return make_settings(tmp_path / "state", **{key.lower(): f"secret-{key.lower()}" for key in GENERATED})


def test_versions_come_from_versions_env(cfg, repo):
    pinned = dict(line.split("=", 1) for line in (repo / "versions.env").read_text().splitlines()
                  if line and not line.startswith("#"))
    assert cfg.versions.trino == pinned["TRINO_VERSION"]
    assert cfg.versions.kafka == pinned["KAFKA_VERSION"]
    assert cfg.versions.pinot == pinned["PINOT_VERSION"]


@pytest.mark.parametrize("template", sorted(p for p in TEMPLATES.rglob("*") if p.is_file()
                                            and p.suffix in {".properties", ".conf", ".cfg", ".config"}),
                         ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_template_renders_without_unknown_placeholders(cfg, template, tmp_path):
    values = {**pinot_values(cfg, StatePaths(tmp_path)), "DATA_DIR": "/d", "PLUGIN_PATH": "/p",
              "TRINO_DATA_DIR": "/t", "TRINO_CATALOG_DIR": "/c", "TRINO_HEAP": "1G",
              "TRINO_COORDINATOR": "true", "TRINO_HTTP_PORT": "8080", "TRINO_NODE_ID": "n", "TRINO_NODE_HOST": "h",
              "OBJECT_STORE_DIR": "/s3", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    rendered = render(template, tmp_path / "out" / template.name, values).read_text()
    assert "${" not in rendered


def test_every_listener_binds_loopback(cfg, tmp_path):
    values = {**pinot_values(cfg, StatePaths(tmp_path)), "DATA_DIR": "/d", "PLUGIN_PATH": "/p"}
    kafka = render(TEMPLATES / "kafka" / "server.properties", tmp_path / "k", values).read_text()
    assert "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093" in kafka
    connect = render(TEMPLATES / "connect" / "connect-distributed.properties", tmp_path / "c", values)
    assert "listeners=http://127.0.0.1:8083" in connect.read_text()


def test_env_file_gets_every_secret_once(tmp_path):
    env = tmp_path / ".env"
    assert ensure_env_file(env) is True
    first = env.read_text()
    assert all(f"{key}=" in first for key in GENERATED)
    assert "changeme" not in first
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert ensure_env_file(env) is False
    assert env.read_text() == first


def test_env_file_keeps_user_values_and_adds_missing(tmp_path):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=mine\n")
    ensure_env_file(env)
    text = env.read_text()
    assert "POSTGRES_PASSWORD=mine\n" in text and text.count("POSTGRES_PASSWORD=") == 1
    assert "DEBEZIUM_PASSWORD=" in text


def test_supervisord_config_quotes_arguments_and_environment(tmp_path):
    from supervisor.options import ServerOptions

    paths = StatePaths(tmp_path)
    environment = {"PASSWORD": 'p%w"d', "WINDOWS_PATH": "C:\\data,x", "CONN": '{"host": "/a b", "n": 1}',
                   "EMPTY": ""}
    service = Service("demo", ["/bin/echo", "two words", "-cp", "lib/*"], HealthCheck("x", lambda: True),
                          stage=0, user="postgres")
    paths.create()
    path = render_config([service], paths, environment)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    parser = configparser.RawConfigParser()
    parser.read(path)
    program = parser["program:demo"]
    assert program["autostart"] == "false" and program["user"] == "postgres"
    # read back by supervisord itself (user= needs the account to exist: it does, see postgres)
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    config = options.process_group_configs[0].process_configs[0]
    assert shlex.split(config.command) == ["/bin/echo", "two words", "-cp", "lib/*"]
    marks = {"REALTIME_PLATFORM_STATE_DIR": str(tmp_path), "REALTIME_PLATFORM_SERVICE": "demo"}
    assert config.environment == {**environment, **marks}


def test_supervisord_config_refuses_a_value_it_cannot_carry(tmp_path):
    service = Service("demo", ["/bin/true"], HealthCheck("x", lambda: True), stage=0)
    with pytest.raises(ValueError, match="cannot pass BAD"):
        render_config([service], StatePaths(tmp_path), {"BAD": "it's \"both\""})


def test_command_health_check_follows_the_exit_code():
    from realtime_platform.local import health

    assert health.command("true", ["true"]).ok()
    assert not health.command("false", ["false"]).ok()
    assert not health.command("missing", ["/nonexistent/pg_isready"]).ok()


@pytest.mark.slow
def test_postgres_is_healthy_only_when_pg_isready_passes(cfg):
    """An open port is not enough: a listener that never speaks PostgreSQL's protocol (like a server
    still replaying WAL would refuse it) is unhealthy, while a TCP check would pass."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        service = postgres.postgres_service(cfg.model_copy(update={"ports": cfg.ports.model_copy(update={"postgres": port})}),
                                       StatePaths(cfg.state_dir))
        assert health.tcp("127.0.0.1", port).ok()
        assert service.health.describe.startswith("pg_isready")
        assert not service.health.ok()


@pytest.mark.slow
def test_up_only_one_program_leaves_the_others_running(tmp_path):
    """A real supervisord: a changed config applied with `only` restarts only that program."""
    from realtime_platform.local import supervisor

    paths = StatePaths(tmp_path / "s")
    paths.create()
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    services = [Service(name, sleeper, HealthCheck("x", lambda: True), stage=0) for name in ("a", "b")]
    render_config(services, paths, {"VERSION": "1"})
    supervisor.ensure_daemon(paths)
    try:
        for name in ("a", "b"):
            supervisor.start(paths, name)
        time.sleep(1)
        before = {p["name"]: p["pid"] for p in supervisor.process_info(paths)}
        render_config(services, paths, {"VERSION": "2"})  # both programs' environment changed
        supervisor.ensure_daemon(paths, only={"a"})
        supervisor.start(paths, "a")
        time.sleep(1)
        after = {p["name"]: (p["pid"], p["statename"]) for p in supervisor.process_info(paths)}
        running = {"STARTING", "RUNNING"}  # startsecs=3: a fresh start is STARTING for 3 s
        assert after["b"][0] == before["b"] and after["b"][1] in running  # untouched
        assert after["a"][0] != before["a"] and after["a"][1] in running  # restarted on its new config
    finally:
        supervisor.shutdown(paths)


@pytest.mark.slow
def test_a_killed_program_stays_down_until_it_is_started_again(tmp_path):
    """A real supervisord: the fault tests' kill -9 and hold-down. The program gets no chance to
    handle a signal (its SIGTERM handler would leave a file), and supervisord does not restart it
    (each start logs the new pid)."""
    from realtime_platform.local import supervisor
    from tests.live import supervised

    paths = StatePaths(tmp_path / "s")
    paths.create()
    handled = tmp_path / "got-sigterm"
    script = tmp_path / "victim.py"
    starts = tmp_path / "starts"
    script.write_text("import os, pathlib, signal, sys, time\n"
                      f"with open({str(starts)!r}, 'a') as log: log.write(f'{{os.getpid()}}\\n')\n"
                      "def handler(*_):\n"
                      f"    pathlib.Path({str(handled)!r}).touch()\n"
                      "    sys.exit(0)\n"
                      "signal.signal(signal.SIGTERM, handler)\n"
                      "time.sleep(600)\n")
    victim = Service("victim", [sys.executable, str(script)], HealthCheck("x", lambda: True), stage=0)
    render_config([victim], paths, {})
    supervisor.ensure_daemon(paths)
    server = supervisor.rpc(paths).supervisor
    try:
        for _ in range(3):
            server.startProcess("victim", True)  # returns once RUNNING (startsecs=3)
            killed_pid = server.getProcessInfo("victim")["pid"]
            supervised.kill_and_hold_down(server, "victim")
            time.sleep(2.5)  # more than two of supervisord's ticks: a pending restart would have run
            info = server.getProcessInfo("victim")
            assert (info["statename"], info["pid"]) == ("STOPPED", 0)
            assert info["exitstatus"] == -1  # supervisord's word for "ended by a signal"
            assert not handled.exists(), "the program ran its SIGTERM handler: it was not killed with -9"
            assert not psutil.pid_exists(killed_pid)
        assert len(starts.read_text().split()) == 3, "supervisord restarted the killed program"
    finally:
        supervisor.shutdown(paths)

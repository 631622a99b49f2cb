"""The typed endpoint that replaces re-parsing service URLs, and the names defined once."""

from __future__ import annotations

import pytest

from realtime_platform.config import TRINO_USER, Endpoint
from tests.conftest import make_settings


@pytest.mark.parametrize("url, expected", [
    ("http://trino:8080", Endpoint("http", "trino", 8080)),
    ("https://trino.example.com", Endpoint("https", "trino.example.com", 443)),
    ("http://127.0.0.1", Endpoint("http", "127.0.0.1", 80)),
])
def test_endpoints_parse_with_the_schemes_default_port(url, expected):
    assert Endpoint.parse(url) == expected
    assert Endpoint.parse(expected.url) == expected


def test_a_url_without_a_host_is_refused():
    with pytest.raises(ValueError, match="not a URL with a host"):
        Endpoint.parse("trino:8080/path")


def test_settings_give_trinos_endpoint_and_user(tmp_path):
    cfg = make_settings(tmp_path, trino_port=18080)
    assert cfg.trino == Endpoint("http", "127.0.0.1", 18080) and cfg.trino_url == "http://127.0.0.1:18080"
    assert cfg.trino_user == TRINO_USER

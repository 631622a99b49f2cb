"""The Trino catalog files: they parse, and endpoints and keys come from ${ENV:...}."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

CATALOGS = sorted((REPO / "trino" / "catalogs").glob("*.properties"))
ENV_REFERENCE = re.compile(r"^\$\{ENV:[A-Z0-9_]+\}$")


def parse_properties(path) -> dict[str, str]:
    props = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert "=" in line, f"{path.name}:{number}: not key=value: {line!r}"
        key, value = line.split("=", 1)
        assert key.strip() not in props, f"{path.name}:{number}: duplicate {key!r}"
        props[key.strip()] = value.strip()
    return props


def test_pinot_and_hive_catalogs_exist():
    assert {p.stem for p in CATALOGS} >= {"pinot", "hive"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_secrets_and_endpoints_are_environment_references(path):
    props = parse_properties(path)
    assert props["connector.name"] == path.stem
    for key, value in props.items():
        if re.search(r"(secret|access-key|password|endpoint|controller-urls|url)", key):
            assert ENV_REFERENCE.match(value), f"{path.name}: {key} must be ${{ENV:...}}, is {value!r}"


def test_hive_catalog_uses_glue_and_s3():
    props = parse_properties(REPO / "trino" / "catalogs" / "hive.properties")
    assert props["hive.metastore"] == "glue"
    assert props["fs.native-s3.enabled"] == "true"
    assert props["s3.path-style-access"] == "true"
    # moto ignores GetPartitions segments, so more than one would duplicate partitions.
    assert props["hive.metastore.glue.partitions-segments"] == "1"

"""The Trino catalog files: they parse, and endpoints and keys come from ${ENV:...}."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

CATALOGS = sorted((REPO / "trino" / "catalogs").glob("*.properties"))
AWS_HIVE = REPO / "trino" / "aws" / "hive.properties"
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


@pytest.mark.parametrize("path", [*CATALOGS, AWS_HIVE], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_secrets_and_endpoints_are_environment_references(path):
    props = parse_properties(path)
    assert props["connector.name"] == path.stem
    for key, value in props.items():
        if re.search(r"(secret|access-key|password|endpoint|controller-urls|url)", key):
            assert ENV_REFERENCE.match(value), f"{path.name}: {key} must be ${{ENV:...}}, is {value!r}"


def test_local_hive_catalog_keeps_its_metastore_in_the_bucket():
    props = parse_properties(REPO / "trino" / "catalogs" / "hive.properties")
    assert props["hive.metastore"] == "file"
    # The bucket's root: managed tables land in <dir>/<schema>/<table>, the schema locations of the DDL.
    assert props["hive.metastore.catalog.dir"] == "s3://${ENV:S3_BUCKET}/"
    assert props["fs.native-s3.enabled"] == "true"
    assert props["s3.path-style-access"] == "true"
    assert props["s3.endpoint"] == "${ENV:S3_ENDPOINT_URL}"


def test_aws_hive_catalog_is_glue_and_s3_at_aws_endpoints():
    props = parse_properties(AWS_HIVE)
    assert props["connector.name"] == "hive"
    assert props["hive.metastore"] == "glue"
    assert props["fs.native-s3.enabled"] == "true"
    assert not [key for key in props if "endpoint" in key], "AWS mode talks to AWS's own endpoints"
    assert props["hive.metastore.glue.default-warehouse-dir"] == "s3://${ENV:S3_BUCKET}/warehouse/"


def test_both_hive_catalogs_write_the_same_format():
    local = parse_properties(REPO / "trino" / "catalogs" / "hive.properties")
    aws = parse_properties(AWS_HIVE)
    for key in ("hive.storage-format", "hive.recursive-directories", "s3.region"):
        assert local[key] == aws[key], key

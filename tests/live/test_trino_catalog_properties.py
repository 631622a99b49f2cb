"""Both hive catalog files (local and AWS) use only property names that Trino's own hive plugin
defines: checked statically against the class files of the installed Trino distribution, so a
typo in the AWS file fails here and not on the day someone switches to Glue.

Needs no running service, only the distribution `make test` installs (hence the live marker).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from realtime_platform.config import REPO_ROOT, settings
from realtime_platform.local.install import install_trino
from realtime_platform.local.paths import state_paths
from tests.unit.test_trino_catalogs import parse_properties

pytestmark = pytest.mark.live

ENGINE_KEYS = {"connector.name"}  # read by the engine, not by the plugin
CATALOG_FILES = [REPO_ROOT / "trino" / "catalogs" / "hive.properties", REPO_ROOT / "trino" / "aws" / "hive.properties"]


@pytest.fixture(scope="module")
def trino_plugin_strings() -> bytes:
    """The class files of Trino's own jars in the hive plugin folder, concatenated."""
    cfg = settings()
    plugin = install_trino(cfg, state_paths(cfg)) / "plugin" / "hive"
    jars = sorted(plugin.glob("io.trino_*.jar"))
    assert jars, f"no Trino jars in {plugin}"
    chunks = []
    for jar in jars:
        with zipfile.ZipFile(jar) as archive:
            chunks += [archive.read(n) for n in archive.namelist() if n.endswith(".class")]
    return b"\n".join(chunks)


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_property_is_one_trino_defines(path: Path, trino_plugin_strings: bytes):
    unknown = [key for key in parse_properties(path) if key not in ENGINE_KEYS
               and key.encode() not in trino_plugin_strings]
    assert unknown == [], f"{path.name}: not a property of Trino's hive plugin: {unknown}"


def test_the_check_catches_a_misspelt_property(trino_plugin_strings: bytes):
    assert b"hive.metastore.glue.region" in trino_plugin_strings
    assert b"hive.metastore.glue.regoin" not in trino_plugin_strings

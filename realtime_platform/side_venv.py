"""A Python environment of its own, for a part whose pins cannot share the platform's venv.

Superset needs SQLAlchemy 1.4 (`.venv-superset`); DataHub's trino and glue sources need
cachetools<6, which Airflow 3.3 refuses (`.venv-datahub`). Each is built with the platform's own uv
from a compiled requirements file, and rebuilt when that file changes (its hash is stamped inside).
Standard library only: the catalog's tasks import it inside Airflow.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

UV = (sys.executable, "-m", "uv")  # the platform's own uv (a dependency), not one that PATH may lack


@dataclass(frozen=True)
class SideVenv:
    path: Path
    requirements: Path
    entry_point: str = "python"  # the executable whose presence says the install finished
    python_version: str = "3.11"
    editable: tuple[Path, ...] = ()  # local projects installed without their dependencies

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    @property
    def _stamp(self) -> Path:
        return self.path / ".requirements-sha256"

    def _requirements_hash(self) -> str:
        digest = hashlib.sha256(self.requirements.read_bytes())
        for project in self.editable:
            digest.update(str(project).encode())
        return digest.hexdigest()

    def is_current(self) -> bool:
        return (self._stamp.exists() and self._stamp.read_text() == self._requirements_hash()
                and self.bin(self.entry_point).exists())

    def ensure(self) -> Path:
        """Builds or updates the venv unless it is current; returns its folder."""
        if self.is_current():
            return self.path
        print(f"  building {self.path.name} from {self.requirements.name} "
              f"({self.requirements.parent.name}/; uv, a minute or two with a cold cache)", flush=True)
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        if not self.bin("python").exists():
            subprocess.run([*UV, "venv", "--quiet", "--python", self.python_version, str(self.path)],
                           check=True, env=env)
        subprocess.run([*UV, "pip", "install", "--quiet", "--python", str(self.bin("python")),
                        "-r", str(self.requirements)], check=True, env=env)
        for project in self.editable:
            subprocess.run([*UV, "pip", "install", "--quiet", "--python", str(self.bin("python")),
                            "--no-deps", "-e", str(project)], check=True, env=env)
        self._stamp.write_text(self._requirements_hash())
        return self.path

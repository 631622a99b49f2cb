"""Where the local mode keeps what it downloads, renders, stores and logs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realtime_platform.config import REPO_ROOT, PlatformSettings


@dataclass(frozen=True)
class StatePaths:
    root: Path  # this topology's own state
    shared: Path | None = None  # downloads and launchers every topology uses (default: root)

    @property
    def dist(self) -> Path:
        """Unpacked services (jars, tarballs), one folder per service and version."""
        return (self.shared or self.root) / "dist"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def conf(self) -> Path:
        """Config files rendered from local/conf templates."""
        return self.root / "conf"

    @property
    def run(self) -> Path:
        """Sockets and pid files."""
        return self.root / "run"

    @property
    def bin(self) -> Path:
        """Small launchers for users (e.g. the Trino CLI)."""
        return (self.shared or self.root) / "bin"

    def create(self) -> None:
        for path in (self.dist, self.data, self.logs, self.conf, self.run, self.bin):
            path.mkdir(parents=True, exist_ok=True)


def state_paths(cfg: PlatformSettings) -> StatePaths:
    return StatePaths(cfg.stack_dir, shared=cfg.state_dir)


MAVEN_POMS = REPO_ROOT / "local" / "maven"

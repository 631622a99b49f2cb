"""Reset, back up and restore the local platform's state, all of it at one moment.

The state is spread over PostgreSQL (the sources, Airflow's and Superset's metadata, the
replication slots), Kafka (topics, Connect's offsets), ZooKeeper and Pinot's segments, the
warehouse's object store, Airflow's task logs, Superset's secret key and DataHub's files. CDC needs
them to agree: a slot newer than the topics loses changes, an older one repeats them. So a backup
copies every part while the whole stack is stopped (an offline backup), and a restore puts every
part back; then the slots, the topics, Connect's offsets and Pinot's consumed offsets are those of
the same moment and CDC resumes exactly where it stopped. PostgreSQL is part of it: what was
written to it after the backup is not in the restored platform, in the source nor in the mirror.

Kept by all three: the downloads (`dist`, `bin`), the rendered configs, the venvs. A backup also
holds `.env` (the platform's generated passwords, which PostgreSQL's roles were created with), so
the backup folder is private (mode 700) and restore writes it back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from realtime_platform.config import REPO_ROOT, PlatformSettings
from realtime_platform.local import processes, supervisor
from realtime_platform.local.paths import StatePaths, state_paths
from realtime_platform.local.python_app import AppPaths

MANIFEST = "manifest.json"
VERSIONS_FILE = REPO_ROOT / "versions.env"
ENV_FILE = REPO_ROOT / ".env"


class StateError(RuntimeError):
    """A reset, backup or restore that cannot be done as asked; the message says what to do."""


@dataclass(frozen=True)
class Part:
    """One folder of the state, copied whole (`keep` names the entries a reset leaves in place)."""

    name: str  # its folder in the backup
    path: Path
    keep: tuple[str, ...] = ()


def _secrets_folder(home: Path) -> str:
    return AppPaths(home).secrets.name


def parts(paths: StatePaths) -> list[Part]:
    """Every folder that holds the platform's data, in the order they are copied."""
    return [
        Part("data", paths.data),  # PostgreSQL, Kafka, ZooKeeper and Pinot, the object store
        # task logs (the metadata is in PostgreSQL); a reset keeps the generated secrets
        Part("airflow", paths.root / "airflow", keep=(_secrets_folder(paths.root / "airflow"),)),
        # the secret key of the passwords Superset stores
        Part("superset", paths.root / "superset", keep=(_secrets_folder(paths.root / "superset"),)),
        Part("datahub", paths.root / "datahub"),  # the catalog's files
        Part("logs", paths.logs),
    ]


def platform_versions() -> dict[str, str]:
    """The pinned service versions (versions.env): what a backup must be restored into."""
    pairs = (line.split("=", 1) for line in VERSIONS_FILE.read_text().splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _git_commit() -> str | None:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _copy(source: Path, target: Path) -> None:
    """`cp -a`: the folder's files with their owners, modes and times (PostgreSQL runs as its own OS
    user when the stack runs as root, and refuses files it cannot read)."""
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["cp", "-a", f"{source}/.", str(target)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StateError(f"copying {source} to {target} failed: {result.stderr.strip()}")


def _size(path: Path) -> int:
    """Bytes on disk (Kafka's index files are sparse: their apparent size is mostly holes)."""
    if not path.exists():
        return 0
    return sum(f.lstat().st_blocks * 512 for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def _require_stopped(paths: StatePaths, what: str) -> None:
    """No supervisord, and no process of the stack left running without it (`make down` stops both)."""
    running = processes.stack_processes(paths)
    if supervisor.daemon_running(paths) or running:
        left = f" ({processes.describe(running)} still running)" if running else ""
        raise StateError(f"{what} needs the stack stopped, so that every part is taken at one moment{left}: "
                         "run `make down` first")


def _holds_data(paths: StatePaths) -> bool:
    return paths.data.exists() and any(paths.data.iterdir())


def _wipe(part: Part) -> None:
    if not part.path.exists():
        return
    for entry in part.path.iterdir():
        if entry.name in part.keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def reset(cfg: PlatformSettings, log=print) -> None:
    """Wipes every service's data (the stack must be stopped); downloads and secrets stay."""
    paths = state_paths(cfg)
    _require_stopped(paths, "reset")
    for part in parts(paths):
        _wipe(part)
        kept = f" (kept: {', '.join(part.keep)})" if part.keep else ""
        log(f"  wiped {part.path}{kept}")
    log("state reset: the next `make up` starts a fresh platform (downloads, .env and secrets kept)")


def backup(cfg: PlatformSettings, target: Path, log=print) -> dict:
    """Copies every part of the stopped stack's state, and .env, into `target` (new or empty)."""
    paths = state_paths(cfg)
    _require_stopped(paths, "backup")
    if not _holds_data(paths):
        raise StateError(f"{paths.data} holds no data: nothing to back up")
    if target.exists() and any(target.iterdir()):
        raise StateError(f"{target} is not empty: give a new or empty folder")
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)  # it holds .env and the secret key
    started = time.monotonic()
    sizes = {}
    for part in parts(paths):
        if part.path.exists():
            begun = time.monotonic()
            _copy(part.path, target / part.name)
            sizes[part.name] = _size(target / part.name)
            log(f"  {part.name}: {sizes[part.name] / 2**20:,.0f} MB in {time.monotonic() - begun:.0f}s")
    if ENV_FILE.exists():
        shutil.copy2(ENV_FILE, target / ".env")
    manifest = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "topology": cfg.topology, "versions": platform_versions(), "commit": _git_commit(),
                "sizes": sizes}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"backup of the {cfg.topology} stack in {target}: {sum(sizes.values()) / 2**20:,.0f} MB in "
        f"{time.monotonic() - started:.0f}s (private: it holds .env and the secret keys)")
    return manifest


def read_manifest(source: Path) -> dict:
    try:
        return json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise StateError(f"{source} is not a platform backup: it has no {MANIFEST}") from None
    except json.JSONDecodeError as error:
        raise StateError(f"{source / MANIFEST} is not valid JSON: {error}") from None


def restore(cfg: PlatformSettings, source: Path, replace: bool = False, log=print) -> dict:
    """Puts every part of a backup back, with its .env, into the stopped stack's state."""
    paths = state_paths(cfg)
    manifest = read_manifest(source)
    ours = platform_versions()
    differing = {k: (v, ours.get(k)) for k, v in manifest["versions"].items() if ours.get(k) != v}
    if differing:
        changes = ", ".join(f"{k} {was} (this clone: {now})" for k, (was, now) in sorted(differing.items()))
        raise StateError(f"the backup was taken with other versions: {changes}. Restore it with the "
                         f"platform's commit {manifest.get('commit') or 'of that time'} checked out; "
                         "nothing was changed")
    if manifest["topology"] != cfg.topology:
        raise StateError(f"the backup is of the {manifest['topology']} topology, this is {cfg.topology}: "
                         f"run with TOPOLOGY={manifest['topology']}")
    _require_stopped(paths, "restore")
    if _holds_data(paths) and not replace:
        raise StateError(f"{paths.data} holds data: `make reset` first (or restore --replace), so that "
                         "nothing is mixed with the backup")
    started = time.monotonic()
    for part in parts(paths):
        _wipe(Part(part.name, part.path))
        if (source / part.name).exists():
            _copy(source / part.name, part.path)
            log(f"  {part.name} restored")
    if (source / ".env").exists():
        if ENV_FILE.exists() and ENV_FILE.read_bytes() != (source / ".env").read_bytes():
            shutil.copy2(ENV_FILE, ENV_FILE.with_name(".env.before-restore"))
            log("  .env: the backup's passwords (the one before is in .env.before-restore)")
        shutil.copy2(source / ".env", ENV_FILE)
    log(f"restored the platform as it was at {manifest['created_at']} in {time.monotonic() - started:.0f}s. "
        "`make up` resumes CDC from there; what was written to PostgreSQL after that time is not in it")
    return manifest

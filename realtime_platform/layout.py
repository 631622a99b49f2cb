"""Where the repository keeps what several parts of the platform read, defined once.

Standard library only: the bootstrap image (pydantic and PyYAML, no pydantic-settings) runs
realtime_platform.stream_config, and every DAG parse imports the views' discovery.
"""

from __future__ import annotations

import os
from pathlib import Path

# This checkout; where an image installs the package apart from the repository's files (the compose
# Airflow image: site-packages), PLATFORM_ROOT names the folder they are mounted in.
REPO_ROOT = Path(os.environ.get("PLATFORM_ROOT") or Path(__file__).resolve().parent.parent)

# The views' SQL files and stream manifests (`<name>.sql`, `<name>.yml`), inside a DAG folder.
VIEWS_IN_DAG_FOLDER = Path("sql", "views")


def views_folder(repo: Path = REPO_ROOT) -> Path:
    """dags/sql/views of a checkout: this repository's unless given (`Path()`: relative to one)."""
    return repo / "dags" / VIEWS_IN_DAG_FOLDER

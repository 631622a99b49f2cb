"""The catalog's own Python environment, and running recipes in it.

DataHub's trino and glue sources need cachetools<6, which Airflow 3.3 refuses, so the recipes do
not run in Airflow's Python: `run_recipe(name)` starts `python -m realtime_platform.catalog run
<name>` with the Python of `.venv-datahub` (built from datahub/requirements.txt, this repository
installed in it without dependencies), or of `DATAHUB_PYTHON` where an image puts it elsewhere. The
child's log lines become this process's (a task log shows DataHub's reports as before), and its
outcome comes back as the same exceptions `runner.run_recipe` raises in-process.

Standard library only: each task of the `datahub_ingestion` DAG imports it inside Airflow.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from realtime_platform.layout import REPO_ROOT
from realtime_platform.side_venv import SideVenv

log = logging.getLogger(__name__)

CATALOG_VENV = SideVenv(REPO_ROOT / ".venv-datahub", REPO_ROOT / "datahub" / "requirements.txt",
                        entry_point="datahub", editable=(REPO_ROOT,))
SUMMARY_PREFIX = '{"recipe": '  # how `python -m realtime_platform.catalog run` prints each outcome


class RecipeFailed(RuntimeError):
    """DataHub reported failures; the message holds its source and sink reports."""

    def __init__(self, recipe: str, message: str):
        super().__init__(message)
        self.recipe = recipe


class RecipeNotApplicable(RuntimeError):
    """The recipe's source is not part of this deployment right now (e.g. Superset is down)."""


def catalog_python(environ: Mapping[str, str] | None = None) -> Path:
    """The Python the recipes run with; a clear error while it is not built."""
    given = os.environ if environ is None else environ
    python = Path(given.get("DATAHUB_PYTHON") or CATALOG_VENV.bin("python"))
    if not python.exists():
        raise FileNotFoundError(f"the catalog's Python {python} does not exist: `make install` (or "
                                "`platformctl up`) builds .venv-datahub from datahub/requirements.txt")
    return python


def in_catalog_environment(environ: Mapping[str, str] | None = None) -> bool:
    """True in the catalog's own Python (where the recipes run in-process)."""
    try:
        return Path(sys.prefix).resolve() == catalog_python(environ).parent.parent.resolve()
    except FileNotFoundError:
        return False


def run_recipe(name: str, environ: Mapping[str, str] | None = None) -> dict:
    """Runs one recipe in the catalog's environment; returns its summary (records written,
    warnings). Raises RecipeNotApplicable when the recipe was passed over, RecipeFailed otherwise."""
    given = dict(os.environ if environ is None else environ)
    given.pop("VIRTUAL_ENV", None)  # the child's own venv, not the caller's
    given.pop("PYTHONHOME", None)
    command = [str(catalog_python(given)), "-m", "realtime_platform.catalog", "run", name]
    tail: deque[str] = deque(maxlen=60)
    summary: dict | None = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=given, cwd=REPO_ROOT) as child:
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.rstrip("\n")
            if line.startswith(SUMMARY_PREFIX):
                summary = json.loads(line)
            else:
                level = logging.getLevelName(line.split(" ", 1)[0])  # "%(levelname)s %(name)s: ..."
                log.log(level if isinstance(level, int) else logging.INFO, "%s", line)
                tail.append(line)
    if summary and "failed" in summary:
        raise RecipeFailed(name, summary["failed"])
    if child.returncode != 0 or summary is None:
        raise RecipeFailed(name, f"recipe {name} failed in {command[0]} (exit {child.returncode}):\n"
                           + "\n".join(tail))
    if "skipped" in summary:
        raise RecipeNotApplicable(summary["skipped"])
    return summary


def run_each(names: list[str], run_one: Callable[[str], dict]) -> list[dict]:
    """Runs the recipes one after the other (SQLite takes one writer); stops at the first failure
    and passes over the ones not applicable here."""
    results = []
    for name in names:
        try:
            results.append(run_one(name))
        except RecipeNotApplicable as exc:
            log.warning("recipe %s skipped: %s", name, exc)
            results.append({"recipe": name, "skipped": str(exc)})
    return results


def run_all(names: list[str], environ: Mapping[str, str] | None = None) -> list[dict]:
    """`run_each` in the catalog's environment, as the DAG's tasks run the recipes."""
    return run_each(names, lambda name: run_recipe(name, environ))


def main() -> None:
    """`python -m realtime_platform.catalog.environment`: builds .venv-datahub unless it is current."""
    CATALOG_VENV.ensure()


if __name__ == "__main__":
    main()

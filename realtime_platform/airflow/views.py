"""The view files of the `create_views` DAG: discovery and build order.

Every `dags/sql/views/<name>.sql` is one task named `<name>`. When a file reads another view
(`hive.views.<other>` appears in its SQL, outside comments), task `<other>` runs first. Discovery
reads a handful of small files and uses the standard library only: it runs at every DAG parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from realtime_platform.layout import views_folder

# The repository's view files (the DAG itself uses the folder beside its own file).
VIEWS_DIR = views_folder()

# hive.views.<name>, each part optionally double-quoted, any case (Trino folds unquoted names).
_VIEW_REFERENCE = re.compile(r'"?\bhive"?\s*\.\s*"?views"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)"?',
                             re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_TASK_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class ViewGraphError(ValueError):
    """The view files cannot be built: a cycle, or a reference to a view with no file."""


@dataclass(frozen=True)
class ViewFile:
    name: str  # task id and, for views, the view's name in hive.views
    path: Path
    depends_on: frozenset[str]  # other view files this one reads

    def template_path(self, dag_folder: Path) -> str:
        """The path Airflow's template loader needs: relative to the DAG file's folder."""
        return self.path.relative_to(dag_folder).as_posix()


def strip_comments(sql: str) -> str:
    """SQL without `--`, `/* */` and Jinja `{# #}` comments (a mention in a comment is no read).

    String literals are not parsed: a `--` inside quotes would cut the line, which can only hide a
    reference, never invent one.
    """
    for pattern in (_JINJA_COMMENT, _BLOCK_COMMENT, _LINE_COMMENT):
        sql = pattern.sub(" ", sql)
    return sql


def referenced_views(sql: str) -> set[str]:
    """Names of the hive.views.* relations a statement mentions (lower case), comments excluded."""
    return {match.group(1).lower() for match in _VIEW_REFERENCE.finditer(strip_comments(sql))}


def discover(directory: Path = VIEWS_DIR) -> list[ViewFile]:
    """One `ViewFile` per `*.sql` in `directory`, with the views each one reads; sorted by name.

    Raises `ViewGraphError` when a file reads a `hive.views.<name>` that no file builds (a typo
    would otherwise only show at run time) or when its name cannot be a task id.
    """
    sources = {path.stem.lower(): path for path in sorted(directory.glob("*.sql"))}
    views = []
    for name, path in sources.items():
        if not _TASK_ID.match(name):
            raise ViewGraphError(f"{path.name}: the file name must be a valid task id "
                                 f"(letters, digits, _ . -)")
        reads = referenced_views(path.read_text()) - {name}
        unknown = reads - set(sources)
        if unknown:
            raise ViewGraphError(f"{path.name} reads hive.views.{', hive.views.'.join(sorted(unknown))}"
                                 f" but there is no such file in {directory}")
        views.append(ViewFile(name, path, frozenset(reads)))
    return views


def build_order(views: list[ViewFile]) -> list[ViewFile]:
    """The views in an order where each comes after every view it reads (ties by name).

    Raises `ViewGraphError` naming the cycle when two views read each other, directly or not.
    """
    by_name = {view.name: view for view in views}
    sorter = TopologicalSorter({view.name: view.depends_on for view in views})
    try:
        sorter.prepare()
    except CycleError as error:
        cycle = list(reversed(error.args[1]))  # graphlib lists it from read to reader
        raise ViewGraphError(f"views read each other in a cycle: {' reads '.join(cycle)}") from None
    order: list[ViewFile] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(by_name[name] for name in ready)
        sorter.done(*ready)
    return order

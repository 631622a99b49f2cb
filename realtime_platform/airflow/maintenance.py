"""What the `maintenance` DAG removes: Airflow's own history past a retention (#23).

Airflow keeps every run, task instance, XCom, log line and asset event in its metadata database,
and every attempt's log file under its log folder, forever. `airflow db clean` is Airflow's own tool
for the database; the log folder has none, so old run folders are removed here. Both act on runs
older than the retention, counted back from the maintenance run's own start, and leave that run alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

# Every table `airflow db clean` knows but `dag` and `dag_version`: deleting a DAG that was not parsed
# within the retention fails on task instances that still refer to its versions (apache/airflow#71864),
# and the whole clean-up stops there. A removed DAG's few rows stay.
TABLES = ("asset_event", "callback_request", "dag_run", "deadline", "import_error", "job", "log", "revoked_token",
          "task_instance", "task_instance_history", "task_reschedule", "trigger", "xcom")


def sqlalchemy_url(conn_type: str | None, login: str | None, password: str | None, host: str | None,
                   port: int | None, schema: str | None) -> str:
    """The metadata database's address for the `airflow` CLI, from an Airflow connection. (Tasks get
    no database access under the Task SDK: their environment's address is blanked on purpose.)"""
    if conn_type not in ("postgres", "postgresql"):
        raise ValueError(f"the Airflow metadata database connection must be PostgreSQL, not {conn_type!r}")
    if not (login and host and schema):
        raise ValueError("the Airflow metadata database connection needs a login, a host and a database")
    auth = quote(login, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql+psycopg2://{auth}@{host}:{port or 5432}/{schema}"


def db_clean_command(before: datetime, dag_ids: Iterable[str] = (), airflow: str = "airflow") -> list[str]:
    """`airflow db clean` for records older than `before`; no archive tables (they would grow instead)."""
    dag_ids = list(dag_ids)
    return [airflow, "db", "clean", "--clean-before-timestamp", before.isoformat(), "--tables", ",".join(TABLES),
            "--skip-archive", "--yes", *(["--dag-ids", ",".join(dag_ids)] if dag_ids else [])]


@dataclass
class LogCleanReport:
    removed_runs: list[str] = field(default_factory=list)  # "<dag_id>/<run_id>"
    removed_bytes: int = 0
    kept_runs: int = 0


def _newest_mtime(folder: Path) -> float:
    return max((f.stat().st_mtime for f in folder.rglob("*") if f.is_file()), default=folder.stat().st_mtime)


def remove_old_task_logs(log_folder: Path, before: datetime, keep_run_id: str,
                         dag_ids: Iterable[str] = ()) -> LogCleanReport:
    """Removes `dag_id=*/run_id=*` folders (Airflow's default log layout) whose newest file is older
    than `before`, except the folder of `keep_run_id`. Only the given DAGs' folders, when named."""
    wanted = set(dag_ids)
    report = LogCleanReport()
    for dag_dir in sorted(log_folder.glob("dag_id=*")):
        if wanted and dag_dir.name.removeprefix("dag_id=") not in wanted:
            continue
        for run_dir in sorted(dag_dir.glob("run_id=*")):
            run_id = run_dir.name.removeprefix("run_id=")
            if run_id == keep_run_id or _newest_mtime(run_dir) >= before.timestamp():
                report.kept_runs += 1
                continue
            report.removed_bytes += sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file())
            shutil.rmtree(run_dir)
            report.removed_runs.append(f"{dag_dir.name.removeprefix('dag_id=')}/{run_id}")
    return report


def cutoff(run_started: datetime, retention_days: float) -> datetime:
    return run_started - timedelta(days=retention_days)

"""The maintenance DAG's rules: which runs' log folders go, and the `airflow db clean` it runs."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from realtime_platform.airflow import maintenance

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def write_log(root, dag_id: str, run_id: str, age_days: float, text: str = "x" * 100) -> None:
    folder = root / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=t"
    folder.mkdir(parents=True)
    log = folder / "attempt=1.log"
    log.write_text(text)
    stamp = (NOW - timedelta(days=age_days)).timestamp()
    os.utime(log, (stamp, stamp))


def test_runs_whose_newest_log_is_past_the_retention_go_and_the_others_stay(tmp_path):
    write_log(tmp_path, "create_views", "old", 40)
    write_log(tmp_path, "create_views", "recent", 3)
    write_log(tmp_path, "cdc_health", "old", 31)
    write_log(tmp_path, "maintenance", "current", 99)  # the running maintenance run: never removed
    report = maintenance.remove_old_task_logs(tmp_path, maintenance.cutoff(NOW, 30), keep_run_id="current")
    assert sorted(report.removed_runs) == ["cdc_health/old", "create_views/old"]
    assert report.removed_bytes == 200 and report.kept_runs == 2
    assert not (tmp_path / "dag_id=create_views" / "run_id=old").exists()
    assert (tmp_path / "dag_id=create_views" / "run_id=recent" / "task_id=t" / "attempt=1.log").exists()
    assert (tmp_path / "dag_id=maintenance" / "run_id=current").exists()


def test_named_dags_limit_what_is_removed(tmp_path):
    write_log(tmp_path, "create_views", "old", 40)
    write_log(tmp_path, "maintenance", "old", 40)
    report = maintenance.remove_old_task_logs(tmp_path, NOW, keep_run_id="now", dag_ids=["maintenance"])
    assert report.removed_runs == ["maintenance/old"]
    assert (tmp_path / "dag_id=create_views" / "run_id=old").exists()


def test_a_run_with_a_recent_retry_is_kept_whole(tmp_path):
    write_log(tmp_path, "create_views", "retried", 40)
    retry = tmp_path / "dag_id=create_views" / "run_id=retried" / "task_id=t" / "attempt=2.log"
    retry.write_text("again")  # written now
    report = maintenance.remove_old_task_logs(tmp_path, maintenance.cutoff(datetime.now(UTC), 30), keep_run_id="-")
    assert report.removed_runs == [] and report.kept_runs == 1


def test_db_clean_keeps_no_archive_and_names_the_cutoff_and_dags():
    before = maintenance.cutoff(NOW, 30)
    command = maintenance.db_clean_command(before)
    assert command[:5] == ["airflow", "db", "clean", "--clean-before-timestamp", "2026-11-05T12:00:00+00:00"]
    assert command[-2:] == ["--skip-archive", "--yes"]
    tables = command[command.index("--tables") + 1].split(",")
    assert "dag_run" in tables and "task_instance" in tables and "xcom" in tables
    assert "dag" not in tables and "dag_version" not in tables  # apache/airflow#71864
    assert maintenance.db_clean_command(before, ["a", "b"], "/venv/bin/airflow")[0] == "/venv/bin/airflow"
    assert maintenance.db_clean_command(before, ["a", "b"])[-2:] == ["--dag-ids", "a,b"]


def test_the_cli_gets_the_metadata_database_from_the_connection_with_its_password_quoted():
    assert (maintenance.sqlalchemy_url("postgres", "airflow", None, "127.0.0.1", 5432, "airflow")
            == "postgresql+psycopg2://airflow@127.0.0.1:5432/airflow")
    assert (maintenance.sqlalchemy_url("postgres", "air flow", "p@ss:/w", "db", None, "airflow")
            == "postgresql+psycopg2://air%20flow:p%40ss%3A%2Fw@db:5432/airflow")
    with pytest.raises(ValueError, match="must be PostgreSQL"):
        maintenance.sqlalchemy_url("mysql", "a", None, "h", 1, "s")

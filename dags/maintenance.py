"""maintenance: Airflow's own history kept to a retention, so months of runs do not fill the disk.

Daily: `airflow db clean` removes runs, task instances, XComs, log lines and asset events older than
`retention_days` (default `AIRFLOW_RETENTION_DAYS`) from the metadata database (connection
`airflow_metadata_db`), and the same runs' task log folders go. `dag_ids` (a list) limits both to
those DAGs. The logic is realtime_platform.airflow.maintenance.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

from realtime_platform.config import AIRFLOW_DB_CONN_ID, environment_setting

with DAG(
    dag_id="maintenance",
    description="Airflow's metadata database and task logs kept to a retention",
    doc_md=__doc__,
    schedule=timedelta(days=1),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["maintenance", "airflow"],
    default_args={"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=1)},
    params={"retention_days": float(environment_setting("AIRFLOW_RETENTION_DAYS")),
            "dag_ids": []},
):

    @task(task_id="clean_metadata_database", execution_timeout=timedelta(minutes=30))
    def clean_metadata_database(params=None, dag_run=None) -> str:
        import subprocess
        import sys
        from pathlib import Path

        from airflow.sdk import BaseHook

        from realtime_platform.airflow import maintenance

        before = maintenance.cutoff(dag_run.run_after, float(params["retention_days"]))
        airflow = Path(sys.executable).with_name("airflow")
        command = maintenance.db_clean_command(before, params["dag_ids"],
                                               str(airflow) if airflow.exists() else "airflow")
        print("running", " ".join(command), flush=True)
        db = BaseHook.get_connection(AIRFLOW_DB_CONN_ID)  # its password, if any, in PGPASSFILE or the URI
        url = maintenance.sqlalchemy_url(db.conn_type, db.login, db.password, db.host, db.port, db.schema)
        result = subprocess.run(command, capture_output=True, text=True, timeout=1700, check=False,
                                env={**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url})
        print(result.stdout[-20000:], result.stderr[-5000:], sep="\n")
        if result.returncode != 0:
            raise RuntimeError(f"airflow db clean failed ({result.returncode}): {result.stderr[-2000:]}")
        return before.isoformat()

    @task(task_id="remove_old_task_logs")
    def remove_old_task_logs(params=None, dag_run=None) -> dict:
        from pathlib import Path

        from airflow.sdk.configuration import conf

        from realtime_platform.airflow import maintenance

        before = maintenance.cutoff(dag_run.run_after, float(params["retention_days"]))
        report = maintenance.remove_old_task_logs(Path(conf.get("logging", "base_log_folder")), before,
                                                  dag_run.run_id, params["dag_ids"])
        print(f"removed {len(report.removed_runs)} run log folders ({report.removed_bytes:,} bytes), "
              f"kept {report.kept_runs}: {report.removed_runs[:50]}")
        return {"removed_runs": len(report.removed_runs), "removed_bytes": report.removed_bytes,
                "kept_runs": report.kept_runs}

    clean_metadata_database() >> remove_old_task_logs()

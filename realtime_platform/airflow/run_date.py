"""The date a DAG run is for: its logical date when it has one, else the day it was due.

Airflow 3 runs started by an asset event, or through the REST API with `"logical_date": null`,
have no logical date, so `{{ ds }}` is undefined there; every run has `run_after`. A run for a
given date (`airflow dags test <dag> <date>`, a backfill) keeps that date. The DAGs register
`run_date` as a template macro (`{{ run_date(dag_run) }}`) and call it in Python tasks.
"""

from __future__ import annotations


def run_date(dag_run) -> str:
    """YYYY-MM-DD of the run's logical date, or of its run_after when it has none."""
    when = getattr(dag_run, "logical_date", None) or dag_run.run_after
    return when.strftime("%Y-%m-%d")


RUN_DATE_TEMPLATE = "{{ run_date(dag_run) }}"  # needs user_defined_macros={"run_date": run_date}

"""The tsum_summaries task renders its run date for every way a run starts: runs started by an
asset event (how create_views starts it) have no logical date in Airflow 3, hence no `ds`."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from tests.dags.conftest import DAGS


@pytest.fixture(scope="module")
def dag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["tsum_summaries"]


@pytest.mark.parametrize("logical_date", [None, datetime(2026, 11, 27, tzinfo=timezone.utc)],
                         ids=["asset_triggered", "manual"])
def test_run_date_renders_for_every_kind_of_run(dag, logical_date):
    """The task renders without `ds` and leaves the date to run_date() at execution."""
    from jinja2 import StrictUndefined

    from realtime_platform.airflow.run_date import run_date

    run = SimpleNamespace(logical_date=logical_date, run_after=datetime(2026, 11, 27, 4, 7, tzinfo=timezone.utc))
    [task] = [t for t in dag.tasks if hasattr(t, "run_date")]
    task.dag.template_undefined = StrictUndefined  # an undefined name fails, as in a task run
    task.render_template_fields({"dag_run": run, "params": {k: dag.params[k] for k in dag.params}})
    assert task.run_date is None
    assert run_date(run) == "2026-11-27"

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

    bag = DagBag(str(DAGS), include_examples=False, safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["tsum_summaries"]


@pytest.mark.parametrize("run_type", ["asset_triggered", "manual"])
def test_run_date_is_the_day_the_run_was_due(dag, run_type):
    from jinja2 import StrictUndefined

    run = SimpleNamespace(run_type=run_type, run_after=datetime(2026, 11, 27, 4, 7, tzinfo=timezone.utc))
    [task] = [t for t in dag.tasks if hasattr(t, "run_date")]
    task.dag.template_undefined = StrictUndefined  # an undefined name fails, as in a task run
    task.render_template_fields({"dag_run": run, "params": {k: dag.params[k] for k in dag.params}})
    assert task.run_date == "2026-11-27"

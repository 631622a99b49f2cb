"""tsum_summaries end to end: the DAG summarizes hive.views.orders from its grouped rows and
stores, once per run date, the patterns the reference implementation (PyPI `tsum`) finds on the
same rows. Where the reference's own result depends on hash order (a tie), the stored patterns
must be one of the results the tie choices allow."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from realtime_platform.local.airflow_client import AirflowClient
from realtime_platform.trino_client import query
from tests.tsum.reference import (ReferenceFailure, ReferenceRunner, canonical, encoded, possible_results,
                                  run_references)

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def tsum_client(bootstrapped):
    client = AirflowClient(bootstrapped, "tsum_summaries")
    client.wait_until_known()
    client.wait_idle()
    client.set_paused(False)
    views = AirflowClient(bootstrapped, "create_views")  # the orders view must exist
    views.wait_idle()
    views.set_paused(False)
    state, tasks = views.wait_for_run(views.trigger())
    assert state == "success", tasks
    client.wait_idle()  # the asset-triggered run, if any
    return bootstrapped, client


def stored(cfg, run_date: str) -> list[tuple]:
    return query(cfg, "SELECT rank, pattern, saving, coverage FROM hive.summaries.orders_patterns "
                      f"WHERE run_date = DATE '{run_date}' ORDER BY rank")


def run_date_of(client: AirflowClient, run_id: str) -> str:
    """The run date the DAG used: the run's logical date, else its run_after (UTC, YYYY-MM-DD)."""
    run = client._ok(client.call("GET", f"/dags/{client.dag_id}/dagRuns/{run_id}"))
    return (run.get("logical_date") or run["run_after"])[:10]


def test_patterns_table_holds_the_references_result_once_per_run_date(tsum_client):
    cfg, client = tsum_client
    run_ids = []
    for _ in range(2):  # a second run of the same date replaces, never duplicates
        run_ids.append(client.trigger())
        state, tasks = client.wait_for_run(run_ids[-1])
        assert state == "success", tasks
    run_date = run_date_of(client, run_ids[-1])
    rows = stored(cfg, run_date)
    assert rows, f"no patterns stored for the run date {run_date}"
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "ranks duplicated or missing"
    got = canonical([(tuple(json.loads(p).items()), s, c) for _, p, s, c in rows])

    data = pd.DataFrame.from_records(query(cfg, "SELECT status, channel, country FROM hive.views.orders"),
                                     columns=["status", "channel", "country"])
    runners = [ReferenceRunner(seed) for seed in (0, 1)]  # two hash seeds, in parallel
    try:
        answers = run_references(runners, data)
    finally:
        for runner in runners:
            runner.close()
    results = {canonical(a) for a in answers if not isinstance(a, ReferenceFailure)}
    assert results, f"the reference failed on the view's rows: {answers}"
    if len(results) == 1:
        assert got == results.pop()
    else:  # a tie the reference breaks by hash order: ours must be one of the allowed outcomes
        allowed = possible_results(encoded(data))
        assert results <= allowed
        # The task summarizes the grouped rows, whose tie rule is their sorted order (docs/tsum.md).
        in_documented_order = data.sort_values(list(data.columns), na_position="last", kind="stable")
        assert got in allowed | possible_results(encoded(in_documented_order.reset_index(drop=True)))

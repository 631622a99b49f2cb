"""tsum_summaries end to end: the DAG summarizes hive.views.orders through Dask partitions and
stores exactly the patterns our engine computes on the same rows, once per run date."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from realtime_platform.airflow.api import AirflowClient
from realtime_platform.trino_client import query
from realtime_platform.tsum import summarize

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


def test_patterns_table_holds_the_engines_result_once_per_run_date(tsum_client):
    cfg, client = tsum_client
    for _ in range(2):  # a second run of the same date replaces, never duplicates
        state, tasks = client.wait_for_run(client.trigger())
        assert state == "success", tasks
    run_date = datetime.now(timezone.utc).date().isoformat()
    rows = stored(cfg, run_date)
    assert rows, "no patterns stored for today's run"
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "ranks duplicated or missing"

    data = pd.DataFrame.from_records(query(cfg, "SELECT status, channel, country FROM hive.views.orders"),
                                     columns=["status", "channel", "country"])
    expected = summarize(data)
    assert [(json.loads(p), s, c) for _, p, s, c in rows] == \
        [(dict(sorted(p.pattern.items())), p.saving, pytest.approx(p.coverage)) for p in expected]

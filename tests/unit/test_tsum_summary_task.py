"""summarize_view's flow against a scripted Trino: what it asks, what it writes, and that bad input
fails with the view, the column and the SQL named, before anything is written."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from realtime_platform.airflow.tsum_summary import SummaryInputError, SummarySpec, summarize_view

SPEC = SummarySpec("hive.views.orders", ("status", "channel"), "order_id", partitions=2)
COLUMNS = [("status", "varchar"), ("channel", "varchar(16)"), ("order_id", "bigint")]
GROUPS = {  # key range -> grouped rows
    "order_id < 51": [("paid", "web", 40), ("new", "app", 10)],
    "order_id >= 51": [("paid", "web", 45), ("new", "web", 5)],
}


class ScriptedTrino:
    """Answers the statements summarize_view sends; records every statement, per connection."""

    def __init__(self, columns=COLUMNS, fail_on: str | None = None, fail_once: bool = False,
                 empty: bool = False):
        self.columns, self.fail_on, self.fail_once, self.connections = columns, fail_on, fail_once, []
        self.empty = empty  # the view has no rows: min/max are NULL, GROUP BY returns nothing
        self.stored = [(1, '{"status": "old"}', 7, 50.0, 0.0, 10, datetime.date(2026, 11, 29))]

    def __call__(self, statements):
        self.connections.append(list(statements))
        return [self.answer(sql) for sql in statements]

    def answer(self, sql: str) -> list[tuple]:
        if self.fail_on and self.fail_on in sql:
            if self.fail_once:
                self.fail_on = None
            raise RuntimeError("Query failed: PINOT_EXCEPTION")
        if sql.startswith("SELECT * FROM hive.summaries.orders_patterns"):
            return self.stored
        if "information_schema.columns" in sql:
            return self.columns
        if sql.startswith("SELECT min(order_id)"):
            return [(None, None)] if self.empty else [(1, 100)]
        if "GROUP BY" in sql and self.empty:
            return []
        if "GROUP BY" in sql:
            return next(rows for key, rows in GROUPS.items() if re.search(rf"WHERE {key} ", sql))
        return []

    @property
    def writes(self) -> list[str]:
        return [s for c in self.connections for s in c if s.split()[0] in ("INSERT", "DELETE", "CREATE")
                and "summaries" in s]


def test_summary_is_computed_from_the_grouped_rows_and_written_in_one_statement():
    trino = ScriptedTrino()
    report = summarize_view(SPEC, "2026-11-29", "bucket", trino)
    assert report["rows"] == 100 and report["distinct_rows"] == 3 and report["grouped_queries"] == 2
    assert 0 <= report["seconds"] < 60  # its own work, which the task logs and the overhead benchmark reads
    assert report["patterns"][0]["pattern"] == {"status": "paid", "channel": "web"}
    assert report["patterns"][0]["coverage"] == 85.0
    delete, insert = [s for s in trino.writes if not s.startswith("CREATE")]
    assert delete == "DELETE FROM hive.summaries.orders_patterns WHERE run_date = DATE '2026-11-29'"
    assert json.loads(insert.split("'")[1]) == {"channel": "web", "status": "paid"}


def test_on_a_dask_cluster_the_partition_queries_run_on_its_workers_and_the_report_names_them():
    import distributed

    trino = ScriptedTrino()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        report = summarize_view(SPEC, "2026-11-29", "bucket", trino, cluster.scheduler_address)
        workers = {w["name"] for w in cluster.scheduler_info["workers"].values()}
    assert report["rows"] == 100 and report["distinct_rows"] == 3
    assert report["ran_on"] and set(report["ran_on"]) <= {str(w) for w in workers}
    assert summarize_view(SPEC, "2026-11-29", "bucket", ScriptedTrino())["ran_on"] == ["threads"]


def test_an_empty_view_stores_no_patterns_for_the_date():
    trino = ScriptedTrino(empty=True)
    report = summarize_view(SPEC, "2026-11-29", "bucket", trino)
    assert (report["rows"], report["distinct_rows"], report["patterns"]) == (0, 0, [])
    assert [s for s in trino.writes if not s.startswith("CREATE")] == [
        "DELETE FROM hive.summaries.orders_patterns WHERE run_date = DATE '2026-11-29'"]


def test_a_failed_insert_puts_the_dates_earlier_rows_back():
    trino = ScriptedTrino(fail_on="INSERT INTO hive.summaries", fail_once=True)
    with pytest.raises(RuntimeError, match="the 1 rows stored before were put back"):
        summarize_view(SPEC, "2026-11-29", "bucket", trino)
    restore = trino.connections[-1][0]
    assert restore == ("INSERT INTO hive.summaries.orders_patterns VALUES "
                       "(1, '{\"status\": \"old\"}', 7, DOUBLE '50.0', DOUBLE '0.0', 10, DATE '2026-11-29')")


@pytest.mark.parametrize("columns, message", [
    ([("status", "map(varchar, varchar)"), ("channel", "varchar"), ("order_id", "bigint")],
     "column 'status' has type map(varchar, varchar), which TSum cannot summarize"),
    ([("status", "varchar"), ("order_id", "bigint")], "no column 'channel'"),
    ([("status", "varchar"), ("channel", "varchar"), ("order_id", "varchar")],
     "partition column 'order_id' has type varchar"),
])
def test_a_column_tsum_cannot_summarize_fails_before_any_write(columns, message):
    trino = ScriptedTrino(columns=columns)
    with pytest.raises(SummaryInputError, match=re.escape(message)) as failure:
        summarize_view(SPEC, "2026-11-29", "bucket", trino)
    assert "hive.views.orders" in str(failure.value) and "information_schema.columns" in str(failure.value)
    assert trino.writes == []


def test_a_failing_grouped_query_names_its_sql_and_writes_nothing():
    trino = ScriptedTrino(fail_on="order_id >= 51")
    with pytest.raises(RuntimeError, match=r"hive.views.orders: the grouped pass failed: .*PINOT_EXCEPTION"
                                           r".*SQL: SELECT status, channel, count\(\*\).*order_id >= 51"):
        summarize_view(SPEC, "2026-11-29", "bucket", trino)
    assert trino.writes == []

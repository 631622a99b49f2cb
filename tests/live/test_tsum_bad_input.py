"""A view TSum cannot summarize fails the summary with the view, the column and the SQL named, and
leaves the stored patterns of earlier runs as they were (real Trino, no Airflow needed)."""

from __future__ import annotations

import pytest

from realtime_platform.airflow.tsum_summary import SummaryInputError, SummarySpec, summarize_view
from realtime_platform.trino_client import connect, query

pytestmark = pytest.mark.live

VIEW = "hive.views.tsum_bad_input_probe"


def test_a_map_column_fails_by_name_and_nothing_stored_changes(bootstrapped):
    cfg = bootstrapped
    cursor = connect(cfg).cursor()

    def run_sql(statements):
        results = []
        for sql in statements:
            cursor.execute(sql)
            results.append(cursor.fetchall())
        return results

    query(cfg, f"CREATE OR REPLACE VIEW {VIEW} AS SELECT order_id, status, "
               "MAP(ARRAY['channel'], ARRAY[channel]) AS attributes FROM hive.views.orders")
    stored = "SELECT * FROM hive.summaries.orders_patterns ORDER BY run_date, rank"
    before = query(cfg, stored)
    try:
        spec = SummarySpec(VIEW, ("status", "attributes"), "order_id")
        with pytest.raises(SummaryInputError) as failure:
            summarize_view(spec, "2026-11-29", cfg.s3_bucket, run_sql)
        message = str(failure.value)
        assert VIEW in message and "column 'attributes' has type map(" in message
        assert "SELECT column_name, data_type FROM hive.information_schema.columns" in message
        assert query(cfg, stored) == before
    finally:
        query(cfg, f"DROP VIEW IF EXISTS {VIEW}")

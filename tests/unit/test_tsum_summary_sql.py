"""The SQL that tsum_summaries writes: identifiers checked, values quoted, empty results defined."""

from __future__ import annotations

import pandas as pd
import pytest

from realtime_platform.airflow.tsum_summary import SummarySpec, replace_rows_sql, target_ddl
from realtime_platform.tsum import summarize

SPEC = SummarySpec("hive.views.orders", ("status", "channel"), "order_id", partitions=3)


def test_grouped_queries_split_the_key_range_with_open_ends():
    queries = SPEC.grouped_queries(1, 9)
    group = "count(*) AS tsum_rows FROM hive.views.orders"
    assert queries == [
        f"SELECT status, channel, {group} WHERE order_id < 4 GROUP BY status, channel",
        f"SELECT status, channel, {group} WHERE order_id >= 4 AND order_id < 7 GROUP BY status, channel",
        f"SELECT status, channel, {group} WHERE order_id >= 7 GROUP BY status, channel",
    ]
    assert SPEC.target_table == "hive.summaries.orders_patterns"


@pytest.mark.parametrize("low, high, expected", [(None, None, 1), (5, 5, 1), (1, 2, 2), (0, 10**12, 3)])
def test_grouped_queries_never_outnumber_the_keys(low, high, expected):
    assert len(SPEC.grouped_queries(low, high)) == expected


@pytest.mark.parametrize("view, columns", [("hive.views.orders; DROP TABLE x", ("a",)),
                                           ("views.orders", ("a",)),
                                           ("hive.views.orders", ("a b",))])
def test_only_plain_identifiers_are_accepted(view, columns):
    with pytest.raises(ValueError):
        SummarySpec(view, columns, "order_id")


def test_target_table_is_partitioned_by_run_date():
    ddl = target_ddl(SPEC, "bucket")
    assert "s3://bucket/summaries/" in ddl[0]
    assert "partitioned_by = ARRAY['run_date']" in ddl[1]


def test_rows_replace_the_run_dates_partition_and_quote_values():
    data = pd.DataFrame({"status": ["it's", "it's", "x", "y"], "channel": ["web", "web", "a", "b"]})
    statements = replace_rows_sql(SPEC, "2026-11-27", summarize(data))
    assert statements[0] == "DELETE FROM hive.summaries.orders_patterns WHERE run_date = DATE '2026-11-27'"
    assert "it''s" in statements[1] and statements[1].startswith("INSERT INTO hive.summaries.orders_patterns")


def test_an_empty_view_clears_the_date_and_inserts_nothing():
    empty = pd.DataFrame({"status": pd.Series(dtype=object), "channel": pd.Series(dtype=object)})
    assert replace_rows_sql(SPEC, "2026-11-27", summarize(empty)) == [
        "DELETE FROM hive.summaries.orders_patterns WHERE run_date = DATE '2026-11-27'"]


def test_a_column_of_nulls_yields_no_pattern_on_it():
    data = pd.DataFrame({"status": ["a", "a", "a"], "channel": [None, None, None]})
    summary = summarize(data)
    assert all("channel" not in p.pattern for p in summary)


def test_coverages_are_written_as_double_literals_that_keep_every_bit():
    """A plain 69.35483870967742 is a DECIMAL in Trino; its cast to DOUBLE gave 69.35483870967741."""
    from realtime_platform.airflow.tsum_summary import _literal

    assert _literal(69.35483870967742) == "DOUBLE '69.35483870967742'"
    assert float(_literal(0.1 + 0.2).split("'")[1]) == 0.1 + 0.2
    assert _literal(3) == "3" and _literal(None) == "NULL"

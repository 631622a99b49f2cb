"""`moto_server` plus the AWS Glue column-statistics actions, which moto 5.2.5 lacks and Trino's
Hive connector calls on every CREATE TABLE / CTAS / INSERT (and on reads when statistics are on).
They become no-ops that keep no statistics: Trino then writes Hive tables to moto like to AWS.

    python -m realtime_platform.local.moto_glue_stats -H 127.0.0.1 -p 5000
"""

from __future__ import annotations

import json
import sys

from moto.glue.responses import GlueResponse


def _no_errors(self) -> str:  # Update*: every statistic "accepted"
    return json.dumps({"Errors": []})


def _empty(self) -> str:  # Delete*: nothing stored, nothing to delete
    return json.dumps({})


def _no_statistics(self) -> str:  # Get*: no statistics for any column
    return json.dumps({"ColumnStatisticsList": [], "Errors": []})


for action, handler in {
    "update_column_statistics_for_table": _no_errors,
    "update_column_statistics_for_partition": _no_errors,
    "delete_column_statistics_for_table": _empty,
    "delete_column_statistics_for_partition": _empty,
    "get_column_statistics_for_table": _no_statistics,
    "get_column_statistics_for_partition": _no_statistics,
}.items():
    if not hasattr(GlueResponse, action):  # a later moto may implement them
        setattr(GlueResponse, action, handler)


def main() -> None:
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()

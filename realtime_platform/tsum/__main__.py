"""Command line: python -m realtime_platform.tsum FILE.csv|FILE.parquet [options]."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from realtime_platform.tsum.cost import COST_MODELS, REFERENCE
from realtime_platform.tsum.engine import summarize
from realtime_platform.tsum.io import read_table, summary_json, summary_table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m realtime_platform.tsum",
        description="Summarize a table by TSum patterns (exact re-implementation of tsum 0.1.0).",
    )
    parser.add_argument("file", help="a .csv file, or a .parquet file or directory")
    parser.add_argument("--columns", help="comma-separated columns to use (default: all)")
    parser.add_argument("--cost-model", choices=COST_MODELS, default=REFERENCE, help="default: %(default)s")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (e.g. tcp://127.0.0.1:8786); reads Parquet through Dask",
    )
    parser.add_argument(
        "--npartitions",
        type=int,
        help="partition count whose unique() order breaks ties between values of a column",
    )
    parser.add_argument("--format", choices=("json", "table"), default="json", help="default: %(default)s")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    try:
        data = read_table(args.file, columns=columns, use_dask=True if args.scheduler else None)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = summarize(
        data,
        cost_model=args.cost_model,
        scheduler=args.scheduler,
        npartitions=args.npartitions,
    )
    print(summary_json(summary) if args.format == "json" else summary_table(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m realtime_platform.catalog run [recipe ...] | urns | search TEXT | get URN | cli-config`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from realtime_platform.catalog import environment, recipes, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime_platform.catalog")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run recipes (default: all) into the catalog")
    run.add_argument("recipes", nargs="*", help=f"any of {recipes.recipe_names()}")
    sub.add_parser("urns", help="list the URNs in the embedded catalog")
    s = sub.add_parser("search", help="free-text search of the embedded catalog")
    s.add_argument("text")
    g = sub.add_parser("get", help="the aspects of one URN")
    g.add_argument("urn")
    sub.add_parser("cli-config", help="write .datahubenv for `HOME=<dir> datahub lite ...`")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "run" and not environment.in_catalog_environment():
        # e.g. `.venv/bin/python -m realtime_platform.catalog run`: the recipes run in .venv-datahub
        for summary in environment.run_all(args.recipes or recipes.recipe_names()):
            print(json.dumps(summary), flush=True)
    elif args.command == "run":
        try:
            for summary in runner.run_all(args.recipes or None):
                print(json.dumps(summary), flush=True)
        except runner.RecipeFailed as failed:  # DataHub's reports, for the task that started this
            print(json.dumps({"recipe": failed.recipe, "failed": str(failed)}), flush=True)
            return 1
    elif args.command == "urns":
        print("\n".join(runner.list_urns()))
    elif args.command == "search":
        for urn, aspect in runner.search(args.text):
            print(f"{urn}\t{aspect}")
    elif args.command == "get":
        print(json.dumps(runner.get(args.urn), indent=2, default=str))
    elif args.command == "cli-config":
        print(runner.write_cli_config())
    return 0


if __name__ == "__main__":
    sys.exit(main())

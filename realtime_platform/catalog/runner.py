"""Run the recipes of datahub/recipes/ with DataHub's Pipeline API, and read the embedded catalog.

`run_recipe(name)` is what `python -m realtime_platform.catalog run <name>` does in the catalog's
environment (`catalog.environment.run_recipe` starts it for the `datahub_ingestion` tasks): it resolves the recipe
with `catalog_environment()`, adds the sink (DataHub Lite file, or datahub-rest when
DATAHUB_GMS_URL is set), runs it, logs DataHub's source and sink reports, and raises when DataHub
reports a failure (so the task fails with the report in its log).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from realtime_platform.catalog import recipes
from realtime_platform.catalog.environment import RecipeFailed, RecipeNotApplicable, run_each

__all__ = ["RecipeFailed", "RecipeNotApplicable", "run_all", "run_recipe"]

log = logging.getLogger(__name__)


def take_airflow_lineage(env: Mapping[str, str]) -> list[Path]:
    """Moves what DataHub's Airflow plugin wrote into the `airflow_lineage` recipe's folder: the
    per-process files (lineage_shards), and a shared file an older plugin setup left, under that
    emitter's lock. Returns every file waiting there (older ones stay until a run ingests them)."""
    import filelock

    from realtime_platform.catalog import lineage_shards

    source = Path(env["DATAHUB_AIRFLOW_LINEAGE_FILE"])
    pending = Path(env["DATAHUB_AIRFLOW_LINEAGE_DIR"])
    pending.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        with filelock.FileLock(source.with_suffix(".lock"), timeout=60):
            if source.stat().st_size > 0:
                source.rename(pending / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.json")
    return lineage_shards.take(source, pending)


@contextlib.contextmanager
def patched_environ(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ = env for the block: the sources' clients (boto3 reads AWS_ENDPOINT_URL_GLUE,
    the TSum resolver TRINO_URL) read the process environment, not the recipe."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _reports(pipeline) -> str:
    out = io.StringIO()
    out.write(f"Source ({pipeline.source_type}) report:\n{pipeline.source.get_report().as_string()}\n")
    out.write(f"Sink ({pipeline.sink_type}) report:\n{pipeline.sink.get_report().as_string()}\n")
    return out.getvalue()


def _prepare(name: str, env: Mapping[str, str]) -> list[Path]:
    """What a recipe needs before DataHub reads its source: the metadata files that the
    `file`-source recipes read, written from the repository's files. Returns the files a
    successful run consumes (the Airflow plugin's lineage)."""
    from realtime_platform.catalog import assets, superset

    if name == "data_products":
        catalog_dir = Path(env["DATAHUB_CATALOG_DIR"])
        dashboards = {}
        if superset.is_running(env):
            dashboards = superset.dashboard_urns(env, assets.superset_slugs(catalog_dir))
            log.info("Superset runs: the data products name its dashboards %s", dashboards)
        count = assets.write_assets_file(Path(env["DATAHUB_ASSETS_FILE"]), catalog_dir, dashboards)
        log.info("%d metadata change proposals of data products written to %s", count,
                 env["DATAHUB_ASSETS_FILE"])
    elif name == "glue" and not recipes.warehouse_is_glue(env):
        raise RecipeNotApplicable("the hive catalog keeps its metadata in Trino's file metastore in the "
                                  "local object store (WAREHOUSE=local); AWS Glue is catalogued when "
                                  "WAREHOUSE=aws")
    elif name == "superset" and not superset.is_running(env):
        raise RecipeNotApplicable(f"Superset does not answer at {env.get('SUPERSET_URL')!r}: its "
                                  "dashboards stay as described in datahub/dashboards.yml")
    elif name == "airflow_lineage":
        return take_airflow_lineage(env)
    return []


def run_recipe(name: str, environ: Mapping[str, str] | None = None) -> dict:
    """Runs one recipe; returns a summary (records written, warnings); raises RecipeFailed."""
    from datahub.ingestion.run.pipeline import Pipeline

    from realtime_platform.catalog import tsum

    env = recipes.catalog_environment(environ)
    recipes.checkpoint_file(name, env).parent.mkdir(parents=True, exist_ok=True)  # and Lite's folder
    ingested = _prepare(name, env)
    if name == "airflow_lineage" and not ingested:
        log.info("no Airflow lineage recorded since the last run")
        return {"recipe": name, "sink": recipes.sink_config(env)["type"], "records_written": 0,
                "warnings": 0}
    recipe = recipes.load_recipe(name, env)
    sink = recipe["sink"]
    log.info("recipe %s: source %s, sink %s%s", name, recipe["source"]["type"], sink["type"],
             f" ({env['DATAHUB_LITE_FILE']})" if sink["type"] == "datahub-lite" else "")
    tsum.clear_cache()
    with patched_environ(env):
        pipeline = Pipeline.create(recipe, report_to="datahub" if sink["type"] == "datahub-rest" else None,
                                   no_progress=True)
        try:
            pipeline.run()
        except Exception as exc:
            report = _reports(pipeline)
            log.error("recipe %s failed:\n%s", name, report)
            raise RecipeFailed(name, f"recipe {name} failed: {exc}\n{report}") from exc
    report = _reports(pipeline)
    if pipeline.has_failures():
        log.error("recipe %s reported failures:\n%s", name, report)
        raise RecipeFailed(name, f"recipe {name}: DataHub reported failures\n{report}")
    log.info("recipe %s done:\n%s", name, report)
    for path in ingested:  # in the catalog now; a failed run keeps them for the next one
        path.unlink()
    sink_report = pipeline.sink.get_report()
    return {
        "recipe": name,
        "sink": sink["type"],
        "records_written": sink_report.total_records_written,
        "warnings": len(pipeline.source.get_report().warnings),
    }


def run_all(names: list[str] | None = None, environ: Mapping[str, str] | None = None) -> list[dict]:
    """`environment.run_each` in this process (the recipes' order, skips and first failure alike)."""
    return run_each(names or recipes.recipe_names(), lambda name: run_recipe(name, environ))


# --- the embedded catalog (DataHub Lite) --------------------------------------------------------

def lite(environ: Mapping[str, str] | None = None, read_only: bool = True):
    """The DataHub Lite catalog the runner writes to (close() it when done)."""
    from datahub.lite.lite_util import get_datahub_lite

    env = recipes.catalog_environment(environ)
    config = recipes.sink_config({k: v for k, v in env.items() if k != "DATAHUB_GMS_URL"})["config"]
    return get_datahub_lite(config, read_only=read_only)


def list_urns(environ: Mapping[str, str] | None = None) -> list[str]:
    catalog = lite(environ)
    try:
        return sorted(catalog.list_ids())
    finally:
        catalog.close()


def get(urn: str, aspects: list[str] | None = None, environ: Mapping[str, str] | None = None) -> dict | None:
    catalog = lite(environ)
    try:
        return catalog.get(urn, aspects)
    finally:
        catalog.close()


def _removed(catalog, urn: str) -> bool:
    """Soft-deleted (DataHub's Status aspect): hidden from search, as DataHub's own search does."""
    status = (catalog.get(urn, ["status"]) or {}).get("status") or {}
    return bool(status.get("removed"))


def search(query: str, environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(urn, aspect) pairs whose URN, name or title contains `query` (case-insensitive).

    `datahub lite search` (free text) matches URNs and `name`s only; dashboards and charts have a
    `title` instead, so they are also looked up by title (Lite's "exact" flavor takes SQL).
    """
    from datahub.lite.lite_local import SearchFlavor

    pattern = "%" + query.lower().replace("'", "''") + "%"
    by_title = f"LOWER(json_extract(metadata, '$.title')) LIKE '{pattern}'"
    catalog = lite(environ)
    try:
        found = [(r.id, r.aspect) for r in catalog.search(query, SearchFlavor.FREE_TEXT)]
        found += [(r.id, r.aspect) for r in catalog.search(by_title, SearchFlavor.EXACT)]
        return sorted(hit for hit in set(found) if not _removed(catalog, hit[0]))
    finally:
        catalog.close()


def write_cli_config(environ: Mapping[str, str] | None = None) -> Path:
    """A `.datahubenv` pointing `datahub lite` at the runner's file; returns its folder.

    `datahub lite ...` reads ~/.datahubenv only: run it with HOME=<that folder>. The `gms` section
    works around `datahub lite` crashing without one (DataHub 1.7).
    """
    import yaml

    env = recipes.catalog_environment(environ)
    home = Path(env["DATAHUB_LITE_FILE"]).parent
    home.mkdir(parents=True, exist_ok=True)
    config = {
        "gms": {"server": "http://127.0.0.1:8080-unused", "token": ""},
        "lite": {"type": "sqlite", "config": {"file": env["DATAHUB_LITE_FILE"]}},
    }
    (home / ".datahubenv").write_text(yaml.safe_dump(config))
    return home

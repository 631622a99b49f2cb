"""The datahub_ingestion DAG: one task per recipe, asset-scheduled after the views, thin at parse
time (no DataHub import), and a failing recipe fails its task."""

from __future__ import annotations

import os
import re

import pytest

from realtime_platform.catalog import recipes
from tests.dags.conftest import parse_dags  # noqa: F401 - fixture


def test_one_task_per_recipe(parse_dags):
    dag = parse_dags["dags"]["datahub_ingestion"]
    assert sorted(dag["tasks"]) == sorted(recipes.recipe_names())
    assert all(task["retries"] >= 1 for task in dag["tasks"].values())


def test_settings(parse_dags):
    dag = parse_dags["dags"]["datahub_ingestion"]
    assert "hive.summaries.orders_patterns" in dag["schedule"]  # after tsum_summaries stored them
    assert dag["start_date"].startswith("2026-01-01T00:00:00")
    assert dag["catchup"] is False
    assert "datahub" in dag["tags"]


def test_parsing_does_not_import_datahub(parse_dags):
    loaded = {m.split(".")[0] for m in parse_dags["modules"]}
    assert "datahub" not in loaded


def test_failing_recipe_raises_with_datahub_report(tmp_path):
    """The task's path: the recipe runs in the catalog's own environment (.venv-datahub), and
    DataHub's report of the failure comes back in the exception (so in the task log)."""
    from realtime_platform.catalog import environment

    env = {**os.environ, "TRINO_URL": "http://127.0.0.1:9", "DATAHUB_STATE_DIR": str(tmp_path),
           "AWS_REGION": "us-east-1"}
    with pytest.raises(environment.RecipeFailed, match=r"(?s)trino_pinot.*Source \(trino\) report"):
        environment.run_recipe("trino_pinot", env)


def test_a_recipe_runs_in_the_catalogs_environment_into_the_catalog(tmp_path):
    """glossary, run by the task's path, lands in the Lite file that Airflow's environment reads."""
    from realtime_platform.catalog import environment, runner

    env = {**os.environ, "DATAHUB_STATE_DIR": str(tmp_path)}
    env.pop("DATAHUB_GMS_URL", None)
    summary = environment.run_recipe("glossary", env)
    assert summary["sink"] == "datahub-lite" and summary["records_written"] > 0, summary
    assert "urn:li:glossaryTerm:Commerce.Order" in runner.list_urns(env)


def test_a_recipe_passed_over_in_the_catalogs_environment_skips_its_task(tmp_path):
    from realtime_platform.catalog import environment

    env = {**os.environ, "DATAHUB_STATE_DIR": str(tmp_path), "WAREHOUSE": "local"}
    with pytest.raises(environment.RecipeNotApplicable, match="file metastore"):
        environment.run_recipe("glue", env)


def test_the_catalogs_python_is_named_when_missing(tmp_path):
    from realtime_platform.catalog import environment

    with pytest.raises(FileNotFoundError, match=r"make install.*datahub/requirements.txt"):
        environment.run_recipe("glossary", {"DATAHUB_PYTHON": str(tmp_path / "python")})


def test_the_catalogs_datahub_is_the_version_of_airflows_plugin():
    """Two environments, one DataHub: the sources' acryl-datahub is the plugin's version."""
    import tomllib

    from realtime_platform.layout import REPO_ROOT

    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    plugin = next(d for d in deps if d.startswith("acryl-datahub-airflow-plugin=="))
    core = next(d for d in deps if d.startswith("acryl-datahub["))
    sources = re.search(r"^acryl-datahub==(\S+)$",
                        (REPO_ROOT / "datahub" / "requirements.txt").read_text(), re.MULTILINE)
    assert sources, "datahub/requirements.txt pins no acryl-datahub"
    assert plugin.split("==")[1] == core.split("==")[1] == sources.group(1)

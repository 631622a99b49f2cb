"""Recipes, their environment and their sink.

Recipes carry no endpoint and no secret: DataHub substitutes `${VAR}` from the environment when it
loads them. `catalog_environment()` is that environment: the process environment over the
platform's settings (`PlatformSettings.service_environment()`: TRINO_URL, AWS_*, WAREHOUSE,
...), plus the few values derived from them that the recipes use.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from realtime_platform.config import REPO_ROOT, TRINO_USER, Endpoint, airflow_lineage_file

log = logging.getLogger(__name__)

CATALOG_DIR = REPO_ROOT / "datahub"
RECIPES_DIR = CATALOG_DIR / "recipes"
# The order the runner (and `python -m realtime_platform.catalog run`) uses: terms and products
# first, so that the datasets which name them are searchable together.
RECIPE_ORDER = ("glossary", "data_products", "trino_pinot", "pinot", "trino_hive", "glue", "superset",
                "airflow_lineage")
SUPERSET_USERNAME = "admin"  # the UI user realtime_platform.local.services.superset creates


def recipe_names() -> list[str]:
    """Every recipe of datahub/recipes/ (file name without .yml), in RECIPE_ORDER then by name."""
    names = {p.stem for p in RECIPES_DIR.glob("*.yml")}
    known = [n for n in RECIPE_ORDER if n in names]
    return known + sorted(names - set(known))


def recipe_path(name: str) -> Path:
    path = RECIPES_DIR / f"{name}.yml"
    if not path.is_file():
        raise FileNotFoundError(f"no recipe {name!r}: {path} does not exist")
    return path


def _settings_environment() -> dict[str, str]:
    """The platform's service environment, or nothing where settings are missing (e.g. no .env:
    the secrets); a setting of a wrong value is an error."""
    from pydantic import ValidationError

    from realtime_platform.config import settings

    try:
        cfg = settings()
    except ValidationError as error:
        missing = [".".join(str(part) for part in e["loc"]) for e in error.errors() if e["type"] == "missing"]
        if len(missing) < error.error_count():
            raise
        log.warning("platform settings not read (missing %s): recipes use the process environment only",
                    ", ".join(missing))
        return {}
    return {
        **cfg.service_environment(),
        "DATAHUB_STATE_DIR": str(cfg.stack_dir / "datahub"),
        "SUPERSET_URL": cfg.superset.url,
        "SUPERSET_USERNAME": SUPERSET_USERNAME,
        "SUPERSET_PASSWORD": cfg.secrets.superset_admin.get_secret_value(),
    }


def catalog_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables recipes are resolved with (and that the sources' clients read, e.g. boto3).

    Secrets may come from a dotenv file named by CATALOG_SECRETS_FILE (compose: airflow-init
    writes it), so that they are not in the environment of long-running processes.
    """
    given = os.environ if environ is None else environ
    secrets: dict[str, str] = {}
    if given.get("CATALOG_SECRETS_FILE"):
        from dotenv import dotenv_values  # python-dotenv, a dependency of pydantic-settings

        secrets = {k: v for k, v in dotenv_values(given["CATALOG_SECRETS_FILE"]).items() if v is not None}
    env = {**_settings_environment(), **secrets, **given}
    env.setdefault("DATAHUB_STATE_DIR", str(REPO_ROOT / ".state" / "datahub"))
    state = Path(env["DATAHUB_STATE_DIR"])
    env.setdefault("DATAHUB_CATALOG_DIR", str(CATALOG_DIR))
    env.setdefault("DATAHUB_LITE_FILE", str(state / "lite.db"))
    env.setdefault("DATAHUB_ASSETS_FILE", str(state / "assets.json"))
    env.setdefault("DATAHUB_AIRFLOW_LINEAGE_FILE", str(airflow_lineage_file(state)))
    # the runner moves the plugin's file here before ingesting it (see runner.take_airflow_lineage)
    env.setdefault("DATAHUB_AIRFLOW_LINEAGE_DIR", str(state / "airflow-lineage"))
    env.setdefault("TRINO_USER", TRINO_USER)
    if "TRINO_URL" in env and "TRINO_HOST_PORT" not in env:
        env["TRINO_HOST_PORT"] = Endpoint.parse(env["TRINO_URL"]).host_port
    # DataHub 1.7's glue source ignores `aws_endpoint_url`; boto3 reads this variable itself.
    glue = env.get("GLUE_ENDPOINT_URL")
    if glue and "AWS_ENDPOINT_URL_GLUE" not in env:
        env["AWS_ENDPOINT_URL_GLUE"] = glue
    if "AWS_REGION" in env:
        env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    return env


def warehouse_is_glue(env: Mapping[str, str]) -> bool:
    """WAREHOUSE=aws: Trino's hive catalog is AWS Glue (trino/aws/hive.properties)."""
    return env.get("WAREHOUSE", "local") == "aws"


def _for_warehouse(recipe: dict, env: Mapping[str, str]) -> dict:
    """The trino recipes name Glue as the platform behind the hive catalog (siblings and lineage
    to the glue recipe's datasets). Locally there is no Glue, so that link is left out rather than
    pointing at datasets nobody emits."""
    details = recipe.get("source", {}).get("config", {}).get("catalog_to_connector_details", {})
    if not warehouse_is_glue(env) and details.get("hive", {}).get("connector_platform") == "glue":
        del details["hive"]
    return recipe


def sink_config(env: Mapping[str, str]) -> dict:
    """`datahub-rest` when DATAHUB_GMS_URL is set, else the embedded DataHub Lite (SQLite file).

    The datahub-lite sink ignores `datahub lite init`: the file must be in the sink's config.
    """
    if env.get("DATAHUB_GMS_URL"):
        config = {"server": env["DATAHUB_GMS_URL"]}
        if env.get("DATAHUB_GMS_TOKEN"):
            config["token"] = env["DATAHUB_GMS_TOKEN"]
        return {"type": "datahub-rest", "config": config}
    return {"type": "datahub-lite", "config": {"type": "sqlite", "config": {"file": env["DATAHUB_LITE_FILE"]}}}


def checkpoint_file(name: str, env: Mapping[str, str]) -> Path:
    """A stateful recipe's last checkpoint with the DataHub Lite sink: beside the Lite file, so the
    catalog and what it last saw live and go together (`platformctl reset` clears both)."""
    return Path(env["DATAHUB_LITE_FILE"]).parent / "checkpoints" / f"{name}.json"


def _with_checkpoints(recipe: dict, name: str, env: Mapping[str, str]) -> dict:
    """Stateful recipes keep their checkpoints in DataHub itself with the datahub-rest sink (DataHub's
    default provider), and in `checkpoint_file()` with DataHub Lite, which has no checkpoint store."""
    stateful = recipe.get("source", {}).get("config", {}).get("stateful_ingestion") or {}
    if stateful.get("enabled") and "state_provider" not in stateful and not env.get("DATAHUB_GMS_URL"):
        stateful["state_provider"] = {"type": "file", "config": {"filename": str(checkpoint_file(name, env))}}
    return recipe


def load_recipe(name: str, env: Mapping[str, str] | None = None, with_sink: bool = True) -> dict:
    """The recipe as a dict, `${VAR}` resolved by DataHub's own loader, with the runner's sink.

    An unset variable fails here (DataHub resolves with `nounset`), naming the variable.
    """
    from datahub.configuration.config_loader import load_config_file

    env = catalog_environment() if env is None else dict(env)
    recipe = load_config_file(recipe_path(name), allow_remote=False, resolve_env_vars=False)
    from datahub.configuration.config_loader import resolve_env_variables

    recipe = _with_checkpoints(_for_warehouse(resolve_env_variables(recipe, env), env), name, env)
    if with_sink:
        recipe["sink"] = sink_config(env)
    recipe.setdefault("pipeline_name", f"realtime-platform-{name}")
    return recipe

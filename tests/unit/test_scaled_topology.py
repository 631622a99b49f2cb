"""TOPOLOGY=scaled in the local mode: which processes it runs, in which order, and the configs each
renders from the shared templates (ports, directories, roles). The live behaviour is in
tests/live/test_scaled_topology.py."""

from __future__ import annotations

import pytest

from realtime_platform.local import stack
from realtime_platform.local.paths import state_paths
from realtime_platform.local.services import connect, dask, pinot, trino
from tests.conftest import make_settings


@pytest.fixture
def cfg(tmp_path):
    return make_settings(tmp_path / "state", topology="scaled")


@pytest.fixture
def single(tmp_path):
    return make_settings(tmp_path / "state")


def _properties(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if line and not line.startswith("#") and "=" in line)


def _by_name(cfg):
    return {s.name: s for s in stack.all_services(cfg, state_paths(cfg))}


def test_scaled_runs_each_role_in_its_own_process(cfg, single):
    names = set(_by_name(cfg))
    assert {"pinot-controller", "pinot-broker", "pinot-server-1", "pinot-server-2", "trino", "trino-worker-1",
            "connect", "connect-2", "dask-scheduler", "dask-worker-1", "dask-worker-2"} <= names
    assert "pinot" not in names
    single_names = set(_by_name(single))
    assert "pinot" in single_names and not single_names & {"pinot-server-2", "trino-worker-1", "connect-2",
                                                            "dask-scheduler"}


def test_each_process_starts_after_what_it_joins(cfg):
    services = _by_name(cfg)
    stage = {name: s.stage for name, s in services.items()}
    for later in ("pinot-broker", "pinot-server-1", "pinot-server-2"):
        assert stage["pinot-controller"] < stage[later], "the controller creates the cluster they join"
    assert stage["pinot-zookeeper"] < stage["pinot-controller"]
    assert all(stage["dask-scheduler"] < stage[w] for w in dask.DASK_WORKERS)
    assert stage["kafka"] < stage["connect"] == stage["connect-2"]


def test_every_port_is_used_once(cfg):
    ports = cfg.ports.model_dump()
    assert len(set(ports.values())) == len(ports), ports


def test_topologies_keep_their_own_state_and_share_the_downloads(cfg, single):
    scaled_paths, single_paths = state_paths(cfg), state_paths(single)
    assert scaled_paths.data != single_paths.data and scaled_paths.run != single_paths.run
    assert scaled_paths.dist == single_paths.dist and scaled_paths.bin == single_paths.bin


def test_the_environment_tells_bootstrap_trino_and_airflow_the_topology(cfg, single):
    env, single_env = cfg.service_environment(), single.service_environment()
    assert (env["PINOT_REPLICAS"], env["PINOT_BROKER_QUERIES_ONLY"]) == ("2", "true")
    assert env["DASK_SCHEDULER_ADDRESS"] == f"tcp://127.0.0.1:{cfg.ports.dask_scheduler}"
    assert (single_env["PINOT_REPLICAS"], single_env["PINOT_BROKER_QUERIES_ONLY"],
            single_env["DASK_SCHEDULER_ADDRESS"]) == ("1", "false", "")


def test_each_pinot_server_gets_its_own_ports_and_data(cfg):
    paths = state_paths(cfg)
    pinot.prepare_scaled_pinot(cfg, paths)
    rendered = [_properties(paths.conf / "pinot" / f"{name}.conf") for name in pinot.PINOT_SERVERS]
    for key in ("pinot.server.netty.port", "pinot.server.grpc.port", "pinot.server.instance.dataDir",
                "pinot.server.adminapi.access.protocols.http.port"):
        assert rendered[0][key] != rendered[1][key], key
    assert rendered[0]["pinot.server.netty.port"] == str(cfg.ports.pinot_server)
    assert rendered[1]["pinot.server.grpc.port"] == str(cfg.ports.pinot_server_2_grpc)
    assert all(r["pinot.server.netty.host"] == cfg.bind_host for r in rendered)
    services = _by_name(cfg)
    for name in pinot.PINOT_SERVERS:
        assert str(paths.conf / "pinot" / f"{name}.conf") in services[name].command


def test_the_trino_worker_joins_the_coordinator(cfg):
    paths = state_paths(cfg)
    trino.prepare_scaled_trino(cfg, paths)
    coordinator = _properties(paths.conf / "trino" / "config.properties")
    worker = _properties(paths.conf / trino.TRINO_WORKER / "trino" / "config.properties")
    assert (coordinator["coordinator"], worker["coordinator"]) == ("true", "false")
    assert worker["discovery.uri"] == coordinator["discovery.uri"] == f"http://127.0.0.1:{cfg.ports.trino}"
    assert worker["http-server.http.port"] == str(cfg.ports.trino_worker)
    nodes = [_properties(paths.conf / "trino" / "node.properties"),
             _properties(paths.conf / trino.TRINO_WORKER / "trino" / "node.properties")]
    assert nodes[0]["node.id"] != nodes[1]["node.id"]
    assert nodes[0]["node.data-dir"] != nodes[1]["node.data-dir"]
    assert nodes[0]["node.environment"] == nodes[1]["node.environment"], "one cluster"


def test_the_connect_workers_form_one_group(cfg):
    paths = state_paths(cfg)
    connect.prepare_scaled_connect(cfg, paths)
    first = _properties(paths.conf / "connect" / "connect-distributed.properties")
    second = _properties(paths.conf / connect.CONNECT_WORKER_2 / "connect" / "connect-distributed.properties")
    for key in ("group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic",
                "bootstrap.servers"):
        assert first[key] == second[key], key
    assert first["listeners"] == f"http://127.0.0.1:{cfg.ports.connect}"
    assert second["listeners"] == f"http://127.0.0.1:{cfg.ports.connect_worker_2}"
    assert int(first["scheduled.rebalance.max.delay.ms"]) <= 60_000, "a dead worker's tasks move within a minute"


def test_dask_workers_register_by_name_and_can_reach_trino(cfg):
    services = _by_name(cfg)
    for name in dask.DASK_WORKERS:
        worker = services[name]
        assert worker.command[worker.command.index("--name") + 1] == name
        assert cfg.dask_scheduler_address in worker.command
        for option in ("--host", "--dashboard-address"):  # every listener on loopback
            assert worker.command[worker.command.index(option) + 1].startswith(cfg.bind_host), option
        assert worker.environment["AIRFLOW_CONN_TRINO_DEFAULT"].startswith("trino://")

"""The scaled topology (TOPOLOGY=scaled, `make test-scaled`): each role in its own process, the
same CDC guarantees as on one node, and what keeps answering while one process is killed.

- Pinot: controller, broker, two servers; each table has two replica groups (one per server), so
  every server holds a copy of every partition and its own upsert state.
- Trino: a coordinator that also runs tasks, and one worker.
- Kafka Connect: two workers of one group. Dask: a scheduler and two workers.

Fault cases kill -9 one process, keep it down for an outage while changes stream in and a probe
queries Trino twice a second, then start it again. The numbers go to the fault report.
"""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest
import requests

from realtime_platform.conf_templates import TEMPLATES
from realtime_platform.generator import run_counts
from realtime_platform.local import supervisor
from realtime_platform.local.health import wait_until_healthy
from realtime_platform.local.paths import state_paths
from realtime_platform.local.services.dask import DASK_WORKERS
from realtime_platform.local.services.pinot import PINOT_SERVERS
from realtime_platform.local.services.trino import TRINO_WORKER
from realtime_platform.local.stack import all_services
from realtime_platform.trino_client import query
from tests.live import supervised
from tests.live.polling import wait
from tests.live.test_faults import ResilientStream, compare
from tests.live.test_security import exposed_listeners

pytestmark = [pytest.mark.live, pytest.mark.scaled]

KILL_AFTER_S = 6  # into the change stream
OUTAGE_S = 30  # how long a killed Pinot server or Trino worker stays down
CONNECT_OUTAGE_S = 100  # the group moves a dead worker's tasks after ~40 s (session + 30 s delay;
# ~10 s when the dead worker led the group: docs/scaling.md)
# how long the group waits for a dead worker before it moves its tasks
REBALANCE_DELAY_S = int(re.search(r"^scheduled\.rebalance\.max\.delay\.ms=(\d+)$", (
    TEMPLATES / "connect" / "connect-distributed.properties").read_text(), re.M)[1]) / 1000
FAILOVER_S = 15  # queries may fail this long after a kill, while the survivors notice
CONVERGE_S = 240


@pytest.fixture(scope="module")
def cluster(bootstrapped):
    if not bootstrapped.scaled:
        pytest.fail("these tests need TOPOLOGY=scaled (run `make test-scaled`)")
    return bootstrapped


# --- helpers ---------------------------------------------------------------------------------------

def rpc(cfg):
    return supervisor.rpc(state_paths(cfg)).supervisor


def kill_and_hold_down(cfg, name: str) -> float:
    return supervised.kill_and_hold_down(rpc(cfg), name)


def start_again(cfg, name: str) -> None:
    rpc(cfg).startProcess(name, False)
    service = next(s for s in all_services(cfg, state_paths(cfg)) if s.name == name)
    wait_until_healthy(name, service.health, service.start_timeout_s)


def converge(cfg, within_s: float = CONVERGE_S) -> tuple[int, int, int]:
    """Waits until the person view equals Postgres; (rows expected, rows seen, duplicate keys)."""
    result = {}

    def equal():
        try:
            expected, seen, duplicates, missing, extra = compare(cfg)
        except Exception:  # noqa: BLE001 - a restarted process may still be joining
            return False
        result.update(expected=expected, seen=seen, duplicates=duplicates)
        return (duplicates, missing, extra) == (0, 0, 0)

    wait("the person view equal to Postgres", equal, within_s)
    return result["expected"], result["seen"], result["duplicates"]


class QueryProbe(threading.Thread):
    """Queries Trino (the person view, through the Pinot broker) twice a second; records each
    outcome (start time, answered, error) until stopped."""

    def __init__(self, cfg):
        super().__init__(daemon=True)
        self.cfg = cfg
        self.outcomes: list[tuple[float, bool, str]] = []
        self.stopped = threading.Event()
        self.back_at = float("inf")  # when the killed process was started again

    def run(self) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            try:
                query(self.cfg, "SELECT count(*) FROM hive.views.person")
                self.outcomes.append((started, True, ""))
            except Exception as error:  # noqa: BLE001 - what failed is the measurement
                self.outcomes.append((started, False, str(error).splitlines()[0][:160]))
            time.sleep(0.5)

    def between(self, start: float, end: float) -> list[tuple[float, bool, str]]:
        return [o for o in self.outcomes if start <= o[0] < end]


def describe(outcomes, since: float) -> str:
    failed = [t - since for t, ok, _ in outcomes if not ok]
    last = f", last failure {max(failed):.1f}s after the kill" if failed else ""
    return f"queries while down: {sum(ok for _, ok, _ in outcomes)} ok, {len(failed)} failed{last}"


# --- the topology ------------------------------------------------------------------------------------

def test_each_role_runs_in_its_own_process(cluster):
    cfg = cluster
    nodes = query(cfg, "SELECT node_id, coordinator FROM system.runtime.nodes WHERE state = 'active'")
    assert sorted(nodes) == sorted([(TRINO_WORKER, False), ("trino-local-1", True)])

    for table in ("person", "orders"):
        view = requests.get(f"{cfg.pinot_controller.url}/tables/{table}/externalview", timeout=10).json()
        hosts = {segment: set(replicas) for segment, replicas in view["REALTIME"].items()}
        assert hosts and all(len(servers) == 2 for servers in hosts.values()), (table, hosts)

    workers = {requests.get(f"{cfg.endpoint(port).url}/connectors", timeout=10).status_code
               for port in (cfg.ports.connect, cfg.ports.connect_worker_2)}
    assert workers == {200}
    status = requests.get(f"{cfg.connect.url}/connectors?expand=status", timeout=10).json()
    running_on = {task["worker_id"] for c in status.values() for task in c["status"]["tasks"]}
    assert running_on <= {cfg.connect.host_port, cfg.endpoint(cfg.ports.connect_worker_2).host_port}

    identity = requests.get(f"{cfg.dask_dashboard.url}/json/identity.json", timeout=10)
    assert {w["name"] for w in identity.json()["workers"].values()} == set(DASK_WORKERS)


def test_every_process_of_the_cluster_listens_on_loopback_only(cluster):
    listeners, exposed = exposed_listeners(cluster)
    ports = {port for _, port in listeners}
    assert {cluster.ports.trino_worker, cluster.ports.connect_worker_2, cluster.ports.pinot_server_2_admin,
            cluster.ports.dask_scheduler} <= ports, sorted(listeners)
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_cdc_scenario_converges_with_one_row_per_key_on_every_replica(cluster, fault_report):
    cfg = cluster
    started = time.monotonic()
    people = run_counts(cfg.postgres_dsn(), inserts=3000, updates=1500, deletes=500, seed=1515)
    orders = run_counts(cfg.postgres_dsn(), inserts=2000, updates=1000, deletes=300, seed=1515, table="orders")
    assert (people.inserted, orders.inserted) == (3000, 2000)
    expected, seen, duplicates = converge(cfg)

    with psycopg.connect(cfg.postgres_dsn()) as pg:
        want_orders = dict(pg.execute("SELECT order_id, status FROM orders"))

    def orders_equal() -> bool:
        rows = query(cfg, "SELECT order_id, status FROM pinot.default.orders WHERE NOT deleted")
        return len(rows) == len(dict(rows)) and dict(rows) == want_orders

    wait("pinot.default.orders equal to Postgres", orders_equal, CONVERGE_S)
    # The broker sends each query to one replica group, in turn: consecutive reads see both copies.
    for _ in range(4):
        assert compare(cfg)[2:] == (0, 0, 0), "one replica differs from Postgres"
        assert orders_equal(), "one replica of orders differs from Postgres"
    fault_report.append(("CDC scenario (scaled)", expected, seen, duplicates,
                         f"{time.monotonic() - started:.0f}s"))


# --- kill -9 one process -------------------------------------------------------------------------------

def _run_fault(cfg, victim: str, outage_s: float, while_down=None) -> tuple[float, QueryProbe]:
    """Changes stream; `victim` is killed and kept down for `outage_s` (running `while_down` if
    given); then started again. Returns when it was killed and the probe's record."""
    stream = ResilientStream(cfg.postgres_dsn(), seed=len(victim) * 7919)
    probe = QueryProbe(cfg)
    stream.start()
    probe.start()
    try:
        time.sleep(KILL_AFTER_S)
        killed_at = kill_and_hold_down(cfg, victim)
        if while_down:
            while_down(killed_at)
        time.sleep(max(0.0, killed_at + outage_s - time.monotonic()))
        back_at = time.monotonic()
        start_again(cfg, victim)
        stream.join()
    finally:
        probe.stopped.set()
        probe.join()
    probe.back_at = back_at
    return killed_at, probe


def _assert_queries_went_on(probe: QueryProbe, killed_at: float, victim: str) -> str:
    during = probe.between(killed_at, probe.back_at)
    assert any(ok for _, ok, _ in during), f"no query answered while {victim} was down"
    late = [(t - killed_at, error) for t, ok, error in during if not ok and t - killed_at > FAILOVER_S]
    assert not late, f"queries still failed {FAILOVER_S}s after {victim} was killed: {late[:3]}"
    return describe(during, killed_at)


def test_kill_9_a_pinot_server_the_other_replica_answers_and_the_restarted_one_has_everything(
        cluster, fault_report):
    cfg = cluster
    first, second = PINOT_SERVERS
    killed_at, probe = _run_fault(cfg, first, OUTAGE_S)
    answered = _assert_queries_went_on(probe, killed_at, first)
    expected, seen, duplicates = converge(cfg)
    fault_report.append((f"kill -9 {first}", expected, seen, duplicates, answered))

    # The restarted server caught up: with the other one killed, it alone answers, and equals Postgres.
    killed_at = kill_and_hold_down(cfg, second)
    try:
        expected, seen, duplicates = converge(cfg, within_s=120)
        fault_report.append((f"then kill -9 {second}", expected, seen, duplicates,
                             f"{first} alone equal to Postgres after {time.monotonic() - killed_at:.0f}s"))
    finally:
        start_again(cfg, second)


def test_kill_9_the_trino_worker_the_coordinator_runs_the_queries(cluster, fault_report):
    cfg = cluster
    killed_at, probe = _run_fault(cfg, TRINO_WORKER, OUTAGE_S)
    answered = _assert_queries_went_on(probe, killed_at, TRINO_WORKER)
    wait("the worker active again", lambda: (TRINO_WORKER,) in query(
        cfg, "SELECT node_id FROM system.runtime.nodes WHERE state = 'active'"), 120)
    expected, seen, duplicates = converge(cfg)
    fault_report.append((f"kill -9 {TRINO_WORKER}", expected, seen, duplicates, answered))


def _person_task_worker(cfg) -> str:
    status = requests.get(f"{cfg.connect.url}/connectors/person/status", timeout=10).json()
    [task] = status["tasks"]
    return task["worker_id"] if task["state"] == "RUNNING" else ""


def _group_leader(cfg, worker: str) -> str:
    """The address of the worker that led the Connect group at `worker`'s last rebalance, from
    `worker`'s log ("Joined group at generation N ... leaderUrl='http://host:port/'")."""
    log = (state_paths(cfg).logs / f"{worker}.log").read_text(errors="replace")
    joins = re.findall(r"Joined group at generation \d+ .*?leaderUrl='http://([^/']+)/?'", log)
    assert joins, f"no rebalance in {worker}'s log"
    return joins[-1]


def test_kill_9_the_connect_worker_running_cdc_its_task_moves_and_nothing_is_lost(cluster, fault_report):
    cfg = cluster
    ports = {cfg.connect.host_port: "connect", cfg.endpoint(cfg.ports.connect_worker_2).host_port: "connect-2"}
    victim = ports[wait("the person task running", lambda: _person_task_worker(cfg), 60)]
    victim_led = ports.get(_group_leader(cfg, victim)) == victim
    survivor_url = f"http://{next(a for a, n in ports.items() if n != victim)}"
    moved = {}

    def while_down(killed_at: float) -> None:
        # The group moves the task to the surviving worker, and CDC flows again while the victim is down.
        def task_on_survivor():
            try:
                status = requests.get(f"{survivor_url}/connectors/person/status", timeout=5).json()
            except requests.RequestException:
                return False
            return [t["state"] for t in status.get("tasks", [])] == ["RUNNING"] and \
                status["tasks"][0]["worker_id"] != next(a for a, n in ports.items() if n == victim)

        wait("the person task running on the surviving worker", task_on_survivor, CONNECT_OUTAGE_S - 5, 1)
        moved["after_s"] = time.monotonic() - killed_at
        moved["rows"] = converge(cfg, within_s=60)[0]  # every change so far, with the victim still down
        moved["converged_s"] = time.monotonic() - killed_at

    killed_at, probe = _run_fault(cfg, victim, CONNECT_OUTAGE_S, while_down)
    answered = _assert_queries_went_on(probe, killed_at, victim)
    expected, seen, duplicates = converge(cfg)
    # The leader keeps the last assignment in memory: a new leader hands the task out at once; a
    # surviving leader waits scheduled.rebalance.max.delay.ms for the dead worker first.
    if victim_led:
        assert moved["after_s"] < REBALANCE_DELAY_S, f"the task moved only after {moved['after_s']:.0f}s"
    else:
        assert moved["after_s"] >= REBALANCE_DELAY_S, f"the task moved after {moved['after_s']:.0f}s"
    fault_report.append((f"kill -9 {victim}", expected, seen, duplicates,
                         f"{'the group leader' if victim_led else 'a follower'}; task moved after "
                         f"{moved['after_s']:.0f}s, {moved['rows']} rows equal to Postgres "
                         f"after {moved['converged_s']:.0f}s (still down); {answered}"))


# --- TSum on the Dask cluster ------------------------------------------------------------------------

def test_tsum_summaries_runs_its_partition_queries_on_the_dask_workers(cluster):
    from realtime_platform.local.airflow_client import AirflowClient

    views = AirflowClient(cluster, "create_views")  # the orders view must exist
    views.wait_until_known()
    views.wait_idle()
    state, tasks = views.wait_for_run(views.trigger())
    assert state == "success", tasks
    tsum = AirflowClient(cluster, "tsum_summaries")
    tsum.wait_idle()  # the run create_views' assets triggered, if any
    run_id = tsum.trigger()
    state, tasks = tsum.wait_for_run(run_id)
    assert state == "success", tasks
    report = tsum.return_value(run_id, "summarize_orders")
    assert report["grouped_queries"] > 1 and report["patterns"]
    assert set(report["ran_on"]) <= set(DASK_WORKERS) and report["ran_on"], report["ran_on"]


# --- last: the cluster after all of the above ------------------------------------------------------

def test_status_shows_every_process_running_and_healthy_with_its_memory(cluster, status_report):
    from realtime_platform.local.stack import status

    rows = status(cluster)
    status_report.append(f"topology {cluster.topology}")
    status_report.extend(f"{r.name:<23}{r.state:<10}{r.pid or '-':>8}  {r.health:<10}{r.rss_bytes / 2**20:>7.0f}MB"
                         for r in rows)
    status_report.append(f"{'total':<53}{sum(r.rss_bytes for r in rows) / 2**20:>7.0f}MB")
    assert [(r.name, r.state, r.health) for r in rows if (r.state, r.health) != ("RUNNING", "healthy")] == []
    assert all(r.rss_bytes > 0 for r in rows)

"""A transform that throws on every row is refused by bootstrap, and one posted past the check turns
`platformctl status` red within a minute, with the count and Pinot's error.

The `flags` stream of tests/live/fixtures/flags has the hand-written mistake of the trial in
issue #21: a boolean compared with `= 'true'`, which Pinot 0.11 evaluates as a number, so every row
throws NumberFormatException and is dropped, while the connector, the slot and the consumer lag all
look healthy.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from realtime_platform.local.airflow_client import AirflowClient
from tests.live.conftest import run_bootstrap
from tests.live.fixture_streams import FixtureStream
from tests.live.polling import wait

pytestmark = pytest.mark.live

STREAM = FixtureStream("flags")
TABLE_FILE = "pinot/tables/005-flags/flags_table.json"


def status() -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "platformctl"), "status"], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def flags_stream(bootstrapped):
    cfg = bootstrapped
    STREAM.remove(cfg)
    yield cfg
    STREAM.remove(cfg)


def test_a_throwing_transform_is_refused_by_bootstrap_and_turns_status_red_when_posted(flags_stream):
    cfg = flags_stream
    STREAM.copy_in()
    STREAM.apply_ddl(cfg)

    refused = run_bootstrap(cfg)
    print("bootstrap's refusal:", refused.stderr, sep="\n")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "nothing was posted" in refused.stderr
    assert (f"{TABLE_FILE}: column active: jsonPathString(payload, '$.after.active', '') = 'true' fails on a "
            f"sample insert event: NumberFormatException") in refused.stderr, refused.stderr

    posted = run_bootstrap(cfg, PINOT_TRANSFORM_CHECK="off")  # a user who switched the check off
    assert posted.returncode == 0, posted.stdout + posted.stderr
    with psycopg.connect(cfg.postgres_dsn(), autocommit=True) as pg:
        pg.execute("INSERT INTO public.flags SELECT g, 'flag ' || g, g % 2 = 0 FROM generate_series(1, 50) AS g")
    written = time.monotonic()

    def red() -> subprocess.CompletedProcess | None:
        result = status()
        return result if result.returncode != 0 and "Pinot table flags is dropping rows" in result.stdout else None

    result = wait("platformctl status names the dropped rows", red, 60, every_s=5)
    print(f"status red {time.monotonic() - written:.0f}s after the insert:", result.stdout, sep="\n")
    [problem] = [line for line in result.stdout.splitlines() if "Pinot table flags" in line]
    assert problem.startswith("PROBLEM: Pinot table flags is dropping rows: 50 of 50 consumed"), problem
    assert problem.endswith("caused by NumberFormatException: For input string: \"false\"") or \
        problem.endswith("caused by NumberFormatException: For input string: \"true\""), problem

    metrics = subprocess.run([str(Path(sys.executable).parent / "platformctl"), "metrics"], capture_output=True,
                             text=True, timeout=120).stdout
    dropped = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                  if line.startswith('cdc_pinot_rows_not_indexed{table="flags"'))
    assert dropped == 50, metrics

    client = AirflowClient(cfg, "cdc_health")
    client.wait_until_known()
    client.wait_idle()
    was_paused = client.is_paused()
    client.set_paused(False)
    try:
        run_id = client.trigger()
        state, tasks = client.wait_for_run(run_id, timeout_s=300)
    finally:
        client.set_paused(was_paused)
    assert state == "failed" and tasks["check_cdc"] == "failed", tasks
    log = client.call("GET", f"/dags/cdc_health/dagRuns/{run_id}/taskInstances/check_cdc/logs/1").text
    assert "Pinot table flags is dropping rows" in log, log[-3000:]

"""`make demo`'s last step (`platformctl demo`) on the live stack, as the README's main command runs
it: every stage prints its result, and the asset-triggered DAGs that follow create_views succeed."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from realtime_platform.config import REPO_ROOT

pytestmark = pytest.mark.live


def test_demo_runs_every_stage_and_shows_results(bootstrapped):
    result = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "platformctl"), "demo"], cwd=REPO_ROOT,
                            env=os.environ.copy(), capture_output=True, text=True, timeout=1800)
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr}"
    assert re.search(r"all \d+ live rows visible in hive\.views\.person after [\d.]+s", out), out
    assert re.search(r"triggered manual_\w+ through Airflow's API.*\n\s+run success", out), out
    for dag_id in ("tsum_summaries", "datahub_ingestion"):
        assert re.search(rf"== {dag_id}: started by an asset event.*\n\s+run success", out), out
    report = out[out.index("FROM hive.reports.orders_by_day"):]
    assert int(re.search(r"\((\d+) rows\)", report).group(1)) > 0
    patterns = out[out.index("FROM hive.summaries.orders_patterns"):]
    assert int(re.search(r"\((\d+) rows\)", patterns).group(1)) > 0
    catalog = out[out.index("catalog> search 'order'"):]
    assert "urn:li:dataset:(urn:li:dataPlatform:trino,hive.views.orders,PROD)" in catalog
    assert "urn:li:dataProduct:orders-by-day" in catalog


def test_the_readmes_trino_cli_call_prints_its_rows_and_no_warning(bootstrapped):
    """README: `.state/bin/trino --execute "..."`, from a script (no terminal)."""
    from realtime_platform.local.paths import state_paths

    result = subprocess.run([str(state_paths(bootstrapped).bin / "trino"), "--execute",
                             "SELECT id, customer_id, name FROM hive.views.person ORDER BY id LIMIT 3"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3, result.stdout
    assert result.stderr == "", result.stderr

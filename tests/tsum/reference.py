"""Test helpers: talk to reference runners, canonical results, and the space of tie outcomes."""

from __future__ import annotations

import base64
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from realtime_platform.tsum import Summary, summarize_table
from realtime_platform.tsum.cost import get_cost_model
from realtime_platform.tsum.distinct import from_pandas
from realtime_platform.tsum.table import EncodedTable, encode

RUNNER = Path(__file__).with_name("reference_runner.py")

# One canonical, order-free form of a result: a frozenset of
# (frozenset of (attribute, value type, value)), saving, coverage).
Canonical = frozenset


def canonical(patterns: Iterable[Any]) -> Canonical:
    """Canonical form of our Summary or of a reference reply's pattern tuples."""
    out = set()
    for p in patterns:
        if isinstance(p, tuple):
            items, saving, coverage = p
        else:
            items, saving, coverage = tuple(p.pattern.items()), p.saving, p.coverage
        key = frozenset((k, type(v).__name__, v) for k, v in items)
        out.add((key, int(saving), float(coverage)))
    return frozenset(out)


class ReferenceFailure(Exception):
    """The reference itself raised (it does on some inputs, see docs/tsum.md)."""

    def __init__(self, message: str, traceback_text: str) -> None:
        super().__init__(message)
        self.message = message
        self.traceback_text = traceback_text


class ReferenceRunner:
    """A long-lived `reference_runner.py` process under one PYTHONHASHSEED."""

    def __init__(self, hash_seed: int, python: str = sys.executable) -> None:
        env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
        # The package under test must not shadow anything in the runner; only tsum is used.
        self.hash_seed = hash_seed
        self.process = subprocess.Popen(
            [python, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def send(self, df: pd.DataFrame, npartitions: int = 1, function: str = "summarize") -> None:
        assert self.process.stdin is not None
        request = {"df": df, "npartitions": npartitions, "function": function}
        line = base64.b64encode(pickle.dumps(request)).decode()
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def receive(self) -> list[tuple[Any, int, float]] | ReferenceFailure:
        """The reference's patterns, or a ReferenceFailure if the reference raised."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"reference runner (PYTHONHASHSEED={self.hash_seed}) exited")
        reply = pickle.loads(base64.b64decode(line))
        if "error" in reply:
            return ReferenceFailure(reply["error"], reply["traceback"])
        return reply["patterns"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_references(
    runners: list[ReferenceRunner], df: pd.DataFrame, npartitions: int = 1, function: str = "summarize"
) -> list[Any]:
    """Same table to every runner at once (they work in parallel), then collect."""
    for runner in runners:
        runner.send(df, npartitions, function)
    return [runner.receive() for runner in runners]


def encoded(df: pd.DataFrame, npartitions: int = 1) -> EncodedTable:
    return encode(from_pandas(df, npartitions))


def possible_results(table: EncodedTable, cost: str = "reference", limit: int = 5000) -> set[Canonical]:
    """Every result the greedy search can give over all tie-breaking choices.

    Depth-first over the decisions the tie hook is asked for; it only asks where the
    reference's choice depends on set order (see engine's module docstring).
    """
    model = get_cost_model(cost)
    results: set[Canonical] = set()
    pending: list[list[int]] = [[]]
    runs = 0
    while pending:
        prefix = pending.pop()
        made: list[int] = []
        sizes: list[int] = []

        def choose(
            kind: str, n_options: int, prefix: list[int] = prefix, made: list[int] = made, sizes: list[int] = sizes
        ) -> int:
            i = len(made)
            pick = prefix[i] if i < len(prefix) else 0
            made.append(pick)
            sizes.append(n_options)
            return pick

        summary: Summary = summarize_table(table, model, choose)
        results.add(canonical(summary))
        for i in range(len(prefix), len(made)):
            for alternative in range(1, sizes[i]):
                pending.append(made[:i] + [alternative])
        runs += 1
        if runs >= limit:
            raise RuntimeError(f"more than {limit} tie paths")
    return results


def reference_job_estimate(table: EncodedTable) -> int:
    """Roughly how many Dask computations the reference needs for this table.

    Each candidate attribute=value costs two (benefit and overhead each count rows), each
    column scanned for values one, each expansion step four more; marshalling costs two
    per remaining pattern per round. At ~0.1 s per computation this bounds test time.
    """
    from realtime_platform.tsum.engine import _Search

    search = _Search(table, get_cost_model("reference"), None)
    alive = np.ones(len(table.counts), dtype=bool)
    jobs = 0
    found = []
    while alive.any():
        cards = [len(np.unique(c.codes[alive])) for c in table.columns]
        pattern = search.expand(alive)
        used: set[int] = set()
        for level in range(len(pattern.items) + 1):
            jobs += 4 + sum(1 + 2 * cards[a] for a in range(len(cards)) if a not in used)
            if level < len(pattern.items):
                used.add(pattern.items[level][0])
        if not pattern.items:
            break
        found.append(pattern)
        alive &= ~search.removed_by(pattern.items)
    selected = len(search.marshal(found))
    jobs += sum(2 * (len(found) - r) + 2 for r in range(min(selected + 1, len(found))))
    return jobs


def our_local_expansion(df: pd.DataFrame, npartitions: int = 1) -> list[dict[Any, Any]]:
    """Our local expansion's patterns in discovery order, as attribute -> value dicts."""
    from realtime_platform.tsum.engine import _Search

    table = encoded(df, npartitions)
    search = _Search(table, get_cost_model("reference"), None)
    return [
        {table.columns[a].name: table.columns[a].values[code] for a, code in found.items}
        for found in search.local_expansion()
    ]

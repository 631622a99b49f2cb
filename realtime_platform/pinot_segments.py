"""A realtime table's consuming segments, and committing them on demand (Pinot's forceCommit)."""

from __future__ import annotations

import requests

from realtime_platform.polling import wait


def _state(controller_url: str, table: str, view: str) -> dict[str, dict[str, str]]:
    response = requests.get(f"{controller_url}/tables/{table}/{view}", timeout=10)
    response.raise_for_status()
    return response.json().get("REALTIME") or {}


def consuming(controller_url: str, table: str) -> set[str]:
    """The segments Pinot means to be consuming now (ideal state)."""
    return {segment for segment, hosts in _state(controller_url, table, "idealstate").items()
            if "CONSUMING" in hosts.values()}


def commit_consuming(controller_url: str, table: str, timeout_s: float = 300) -> set[str]:
    """Commits every consuming segment of `table` and returns when each is served committed (ONLINE on
    every server) and new segments consume. Returns the committed segments."""
    before = consuming(controller_url, table)
    response = requests.post(f"{controller_url}/tables/{table}/forceCommit", timeout=60)
    response.raise_for_status()

    def committed() -> bool:
        now, served = consuming(controller_url, table), _state(controller_url, table, "externalview")
        return bool(now) and not now & before and all(
            served.get(segment) and set(served[segment].values()) == {"ONLINE"} for segment in before)

    wait(f"Pinot table {table}: {len(before)} consuming segments committed and served", committed, timeout_s, 1)
    return before

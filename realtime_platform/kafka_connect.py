"""Kafka Connect's REST API: what more than one command does to a connector."""

from __future__ import annotations

import requests

from realtime_platform.polling import wait


def delete_with_offsets(connect_url: str, connector: str) -> bool:
    """Stops the connector, forgets its source offsets and deletes it; False if there was none. A later
    connector of the same name then starts afresh (a Debezium one snapshots its table) instead of
    resuming at an LSN of a slot that may be gone."""
    url = f"{connect_url}/connectors/{connector}"
    if not requests.get(url, timeout=10).ok:
        return False
    requests.put(f"{url}/stop", timeout=30).raise_for_status()
    wait(f"connector {connector} stopped", lambda: requests.get(
        f"{url}/status", timeout=10).json()["connector"]["state"] == "STOPPED", 60, 0.5)
    requests.delete(f"{url}/offsets", timeout=30).raise_for_status()
    requests.delete(url, timeout=10).raise_for_status()
    return True

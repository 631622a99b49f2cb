"""The demo runs every DAG: a follower left paused (e.g. by hand in the UI) is unpaused first, or its
asset-triggered run would never start and the demo would wait for it in vain."""

from __future__ import annotations

from realtime_platform import demo


class FakeClient:
    def __init__(self, dag_id: str, paused: bool):
        self.dag_id, self.paused_state, self.calls = dag_id, paused, []

    def wait_until_known(self) -> None:
        self.calls.append("known")

    def is_paused(self) -> bool:
        return self.paused_state

    def set_paused(self, paused: bool) -> None:
        self.calls.append(f"paused={paused}")
        self.paused_state = paused


def test_a_paused_follower_is_unpaused_and_says_so(capsys):
    client = FakeClient("tsum_summaries", paused=True)
    demo.unpause(client)
    assert client.calls == ["known", "paused=False"] and not client.paused_state
    assert "tsum_summaries was paused; unpausing it" in capsys.readouterr().out


def test_a_running_follower_is_left_alone(capsys):
    client = FakeClient("datahub_ingestion", paused=False)
    demo.unpause(client)
    assert client.calls == ["known"] and capsys.readouterr().out == ""


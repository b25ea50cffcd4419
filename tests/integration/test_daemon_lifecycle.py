"""The daemon's life: it exits (for a restart) when the bus goes away."""

from __future__ import annotations

from sandbox import Sandbox


def test_daemon_exits_non_zero_when_the_bus_goes_away(daemon: Sandbox) -> None:
    nmstated = daemon._children["nmstated"]
    daemon._stop_process("dbus")
    assert nmstated.wait(timeout=30) == 1
    assert "lost the connection to the system bus" in daemon.log_path("nmstated").read_text()

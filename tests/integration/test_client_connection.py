"""nmstatectl's blocking D-Bus connection against a real bus and a real nmstated."""

from __future__ import annotations

import signal
import threading

import pytest

from client.api import FINAL_STATES, SETTLED_STATES, JobView, Nmstate
from client.connection import BUS, BUS_PATH, BusError, Connection
from client.exits import UNAVAILABLE, ClientError
from client.wire import Message, Variant
from sandbox import Sandbox
from tests.helpers import EXAMPLES


@pytest.fixture
def bus_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", sandbox.bus_address)
    return sandbox


def test_signals_read_during_a_call_are_handled_before_it_returns(bus_env: Sandbox) -> None:
    conn = Connection.system_bus()
    seen: list[str] = []

    def record(msg: Message) -> None:
        seen.append(str(msg.member))

    conn.signal_handlers.append(record)
    try:
        # The bus sends NameAcquired before RequestName's reply.
        (result,) = conn.call(BUS, BUS_PATH, BUS, "RequestName", "su", ["org.example.perf", 0])
        assert result == 1  # primary owner
        assert "NameAcquired" in seen
        (names,) = conn.call(BUS, BUS_PATH, BUS, "ListNames")
        assert "org.example.perf" in names
    finally:
        conn.close()


def test_an_error_reply_raises_with_its_name(bus_env: Sandbox) -> None:
    conn = Connection.system_bus()
    try:
        with pytest.raises(BusError) as caught:
            conn.call("org.example.nobody", "/", "org.example.X", "Nothing")
        assert caught.value.name == "org.freedesktop.DBus.Error.ServiceUnknown"
    finally:
        conn.close()


def test_a_wait_ends_when_nmstated_goes_away(
    daemon: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", daemon.bus_address)
    api = Nmstate.open()
    try:
        follower = api.follow_jobs(lambda view, changed: None)
        text = (EXAMPLES / "eth1-static.yml").read_text()
        job = api.manager("Apply", "sa{sv}", text, {"commit": Variant("b", False)}, changes=True)
        view: JobView = follower.wait(job, SETTLED_STATES)
        assert view.state == "awaiting-commit"
        # Killed while we wait for the decision: no Finished signal ever comes.
        killer = threading.Timer(0.5, lambda: daemon.stop_nmstated(signal.SIGKILL))
        killer.start()
        try:
            with pytest.raises(ClientError) as caught:
                follower.wait(job, FINAL_STATES)
        finally:
            killer.join()
        assert caught.value.code == UNAVAILABLE
    finally:
        api.close()

"""Issue 6: kernel changes made with ``ip`` reach the bus as signals.

StateChanged deltas on org.nmstate.Manager, PropertiesChanged on the
interface objects, InterfacesAdded/Removed from the ObjectManager at
/org/nmstate, Resynced after lost events; Show answers from the live cache,
also during a storm of route changes.  Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from dbus_fast import Variant

from nmstated.backends.kernel import read_snapshot, to_nmstate
from sandbox import Sandbox
from tests.bus import call
from tests.helpers import EXAMPLES, VENV_BIN
from tests.subscriber import Signal, Subscriber

IFACE_PATH = "/org/nmstate/interface/"
PROPS = "org.freedesktop.DBus.Properties"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"


def interface_delta(name: str) -> Any:
    def matches(delta: dict[str, Any]) -> bool:
        return any(change["name"] == name for change in delta["interfaces"])

    return matches


def only_change(delta: dict[str, Any], name: str) -> dict[str, Any]:
    (change,) = [c for c in delta["interfaces"] if c["name"] == name]
    return dict(change)


def properties_changed(path: str, prop: str) -> Any:
    def matches(sig: Signal) -> bool:
        return sig.member == "PropertiesChanged" and sig.path == path and prop in sig.body[1]

    return matches


def leave_alone(box: Sandbox, *patterns: str) -> None:
    """Make NetworkManager leave interfaces so named unmanaged (it would set them up)."""
    specs = ";".join(f"interface-name:{pattern}" for pattern in patterns)
    conf = box.workdir / "conf.d" / "90-signal-tests.conf"
    conf.write_text(f"[keyfile]\nunmanaged-devices={specs}\n")
    box.nmcli("general", "reload", "conf")


@contextlib.contextmanager
def daemon_log_on_failure(box: Sandbox) -> Iterator[None]:
    """A failing assertion also shows what nmstated logged (the sandbox goes with the test)."""
    try:
        yield
    except AssertionError as err:
        log = box.log_path("nmstated").read_text(errors="replace").splitlines()[-30:]
        raise AssertionError(f"{err}\n--- nmstated log ---\n" + "\n".join(log)) from err


def show_kernel(box: Sandbox) -> dict[str, Any]:
    reply = call(box.bus_address, "Show", "a{sv}", [{"kernel-only": Variant("b", True)}])
    assert reply.error is None, reply.message
    return dict(json.loads(reply.body[0]))


def expect_change(
    bus: Subscriber, name: str, matches: Callable[[dict[str, Any]], bool], timeout: float = 15
) -> dict[str, Any]:
    """The change to interface *name* in the first StateChanged where *matches* holds."""

    def wanted(delta: dict[str, Any]) -> bool:
        return any(c["name"] == name and matches(c) for c in delta["interfaces"])

    return only_change(bus.expect_delta(wanted, timeout), name)


def new_value(key: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda change: change["new"] is not None and change["new"].get(key) == value


def test_veth_added_changed_and_removed_with_ip(daemon: Sandbox) -> None:
    path = IFACE_PATH + "sig0"
    leave_alone(daemon, "sig*")
    with Subscriber(daemon.bus_address) as bus:
        daemon.ip("link", "add", "sig0", "type", "veth", "peer", "name", "sig1")
        change = expect_change(bus, "sig0", lambda c: c["old"] is None)
        assert change["new"]["type"] == "veth"
        assert change["new"]["state"] == "down"
        assert change["new"]["veth"] == {"peer": "sig1"}
        added = bus.expect(
            lambda s: s.member == "InterfacesAdded" and s.body[0] == path, what="InterfacesAdded"
        )
        # From the object manager, as the D-Bus spec and GDBus clients want it.
        assert added.path == "/org/nmstate" and added.interface == OBJECT_MANAGER
        assert added.body[1]["org.nmstate.Interface"]["Type"].value == "veth"

        daemon.ip("link", "set", "sig0", "mtu", "9000")
        change = expect_change(bus, "sig0", new_value("mtu", 9000))
        assert change["changed"] == ["mtu"]
        assert change["old"]["mtu"] == 1500
        props = bus.expect(properties_changed(path, "Mtu"), what="Mtu PropertiesChanged")
        assert props.body[1]["Mtu"].value == 9000

        daemon.ip("addr", "add", "192.0.2.77/24", "dev", "sig0")
        address = {"ip": "192.0.2.77", "prefix-length": 24}
        change = expect_change(
            bus, "sig0", lambda c: address in c["new"]["ipv4"].get("address", [])
        )
        assert "ipv4.address" in change["changed"]
        assert change["old"]["ipv4"] == {"enabled": False}
        assert change["new"]["ipv4"] == {"enabled": True, "address": [address]}
        props = bus.expect(properties_changed(path, "IPv4Addresses"), what="IPv4Addresses")
        assert props.body[1]["IPv4Addresses"].value == ["192.0.2.77/24"]

        daemon.ip("link", "set", "sig0", "up")
        change = expect_change(bus, "sig0", new_value("state", "up"))
        assert change["old"]["state"] == "down"
        props = bus.expect(properties_changed(path, "State"), what="State PropertiesChanged")
        assert props.body[1]["State"].value == "up"

        daemon.ip("route", "add", "198.51.100.0/24", "via", "192.0.2.1", "dev", "sig0")
        delta = bus.expect_delta(lambda d: bool(d["routes"]))
        assert delta["routes"] == [
            {
                "old": None,
                "new": {
                    "destination": "198.51.100.0/24",
                    "next-hop-interface": "sig0",
                    "next-hop-address": "192.0.2.1",
                    "metric": 0,
                    "table-id": 254,
                },
            }
        ]

        daemon.ip("link", "set", "sig0", "down")
        went_down = bus.expect_delta(
            lambda d: any(
                c["name"] == "sig0" and c["new"]["state"] == "down" for c in d["interfaces"]
            )
        )
        assert only_change(went_down, "sig0")["old"]["state"] == "up"
        props = bus.expect(properties_changed(path, "State"), what="State PropertiesChanged")
        assert props.body[1]["State"].value == "down"
        # The kernel dropped the route with the link, silently; we say so, in
        # the same delta if the re-read finished within its window.
        routes = (
            went_down["routes"]
            or (bus.expect_delta(lambda d: any(r["new"] is None for r in d["routes"]))["routes"])
        )
        assert all(r["new"] is None for r in routes)
        # ours, and the prefix route the kernel made for the address
        assert {r["old"]["destination"] for r in routes} == {"198.51.100.0/24", "192.0.2.0/24"}

        daemon.ip("link", "del", "sig0")
        for name in ("sig0", "sig1"):  # deleting one end of a veth deletes both
            change = expect_change(bus, name, lambda c: c["new"] is None)
            assert change["old"]["name"] == name
        removed = bus.expect(
            lambda s: s.member == "InterfacesRemoved" and s.body[0] == path, what="removed"
        )
        assert removed.path == "/org/nmstate"
    # Deltas come in order.
    sequences = [s.delta["sequence"] for s in bus.seen if s.member == "StateChanged"]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


def test_busctl_tree_shows_the_interface_objects(daemon: Sandbox) -> None:
    def tree() -> str:
        return subprocess.run(
            ["busctl", f"--address={daemon.bus_address}", "tree", "org.nmstate"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout

    with Subscriber(daemon.bus_address) as bus:
        for nic in daemon.nics:
            assert IFACE_PATH + nic in tree()
        daemon.ip("link", "add", "tree-0", "type", "veth", "peer", "name", "tree-1")
        bus.expect(
            lambda s: s.member == "InterfacesAdded" and s.body[0] == IFACE_PATH + "tree_2d0",
            what="InterfacesAdded for tree-0",
        )
        assert IFACE_PATH + "tree_2d0" in tree()
    got = call(
        daemon.bus_address,
        "Get",
        "ss",
        ["org.nmstate.Interface", "Name"],
        path=IFACE_PATH + "tree_2d0",
        interface=PROPS,
    )
    assert got.error is None and got.body[0].value == "tree-0"
    objects = call(
        daemon.bus_address, "GetManagedObjects", interface=OBJECT_MANAGER, path="/org/nmstate"
    )
    assert objects.error is None
    assert IFACE_PATH + "tree_2d0" in objects.body[0]


def test_changes_made_by_a_job_carry_its_id_and_others_are_seen_meanwhile(
    daemon: Sandbox,
) -> None:
    text = (EXAMPLES / "eth1-static.yml").read_text()
    with Subscriber(daemon.bus_address) as bus:
        results: list[Any] = []
        applying = threading.Thread(
            target=lambda: results.append(
                call(daemon.bus_address, "ApplyAndWait", "sa{sv}", [text, {}])
            )
        )
        applying.start()
        running = bus.expect(
            lambda s: (
                s.member == "PropertiesChanged"
                and s.path.startswith("/org/nmstate/job/")
                and s.body[1].get("State", Variant("s", "")).value == "running"
            ),
            what="a job running",
        )
        job_id = int(running.path.rsplit("/", 1)[1])
        # The monitor keeps working while the job runs.
        daemon.ip("link", "add", "busy0", "type", "veth", "peer", "name", "busy1")
        bus.expect_delta(interface_delta("busy0"))
        delta = bus.expect_delta(
            lambda d: any(
                c["name"] == "eth1"
                and c["new"] is not None
                and {"ip": "192.0.2.10", "prefix-length": 24}
                in c["new"].get("ipv4", {}).get("address", [])
                for c in d["interfaces"]
            ),
            timeout=60,
        )
        assert delta["job"] == job_id
        applying.join(120)
        assert results and results[0].error is None, results
        # After the job, changes are nobody's.
        daemon.ip("link", "set", "busy0", "mtu", "1400")
        after = bus.expect_delta(interface_delta("busy0"))
        assert after["job"] is None


def test_lost_events_make_a_resync_signal_and_show_is_right_afterwards(daemon: Sandbox) -> None:
    with daemon_log_on_failure(daemon):
        pid = daemon.processes["nmstated"][0]
        daemon.ip("link", "add", "ovf0", "type", "veth", "peer", "name", "ovf1")
        daemon.ip("link", "set", "ovf0", "up")
        adds = [f"route add 10.88.{i // 256}.{i % 256}/32 dev ovf0" for i in range(30000)]
        dels = [line.replace("add", "del", 1) for line in adds[:15000]]
        with Subscriber(daemon.bus_address) as bus:
            # A stopped daemon reads nothing: 45,000 route events overflow even
            # the 8 MiB buffer (the kernel counts about 1 KiB per event).  Half
            # the routes come and go: none of them may come back.
            os.kill(pid, signal.SIGSTOP)
            try:
                subprocess.run(
                    ["ip", "-n", daemon.netns, "-batch", "-"],
                    input="\n".join(adds + dels) + "\n",
                    text=True,
                    check=True,
                )
            finally:
                os.kill(pid, signal.SIGCONT)
            resynced = bus.expect(lambda s: s.member == "Resynced", timeout=120, what="Resynced")
            assert "overflowed" in resynced.body[0]
        shown = show_kernel(daemon)["routes"]["running"]
        ours = {r["destination"] for r in shown if r["destination"].startswith("10.88.")}
        assert ours == {line.split()[2] for line in adds[15000:]}
        kernel = asyncio.run(read_snapshot(daemon.netns))
        assert show_kernel(daemon)["routes"] == to_nmstate.routes(kernel)


def test_show_answers_during_a_route_storm_and_ends_equal_to_the_kernel(daemon: Sandbox) -> None:
    # Blackhole routes belong to no link: nothing (NetworkManager taking a new
    # link over, a carrier change) can flush them under the storm's deletes.
    adds = [f"route add blackhole 10.99.{i // 256}.{i % 256}/32" for i in range(10000)]
    dels = [line.replace("add", "del", 1) for line in adds[::2]]
    storm = subprocess.Popen(
        ["ip", "-n", daemon.netns, "-batch", "-"], stdin=subprocess.PIPE, text=True
    )
    assert storm.stdin is not None
    answered_during_storm = 0
    try:
        # ip stays alive, waiting for more, until stdin closes: the Show
        # calls between the parts run while the storm is under way.
        for part in (adds[:5000], adds[5000:], dels):
            storm.stdin.write("\n".join(part) + "\n")
            storm.stdin.flush()
            state = show_kernel(daemon)
            assert {"interfaces", "routes", "route-rules"} <= set(state)
            answered_during_storm += storm.poll() is None
        storm.stdin.close()
        while storm.poll() is None:
            show_kernel(daemon)
    finally:
        storm.wait(120)
    assert storm.returncode == 0
    assert answered_during_storm == 3
    kernel = asyncio.run(read_snapshot(daemon.netns))
    assert show_kernel(daemon)["routes"] == to_nmstate.routes(kernel)
    ours = [
        r for r in show_kernel(daemon)["routes"]["running"] if r["destination"].startswith("10.99.")
    ]
    assert len(ours) == 5000


class Lines:
    """A running command's output lines, read by a thread, waited for with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def until(self, matches: Callable[[str], bool], timeout: float = 15) -> list[str]:
        """Lines up to and including the first that *matches*."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no matching line within {timeout} s: {lines}") from None
            lines.append(line)
            if matches(line):
                return lines


@contextlib.contextmanager
def monitor_running(box: Sandbox, *args: str) -> Iterator[Lines]:
    """``nmstatectl monitor ARGS`` running and subscribed; Ctrl-C ends it (exit 130)."""
    with subprocess.Popen(
        [str(VENV_BIN / "nmstatectl"), "monitor", *args],
        env=box.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            Lines(proc.stderr).until(lambda line: "watching" in line)  # subscribed
            yield Lines(proc.stdout)
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(15) == 130


def test_nmstatectl_monitor_json_prints_each_change_of_the_named_interfaces(
    daemon: Sandbox,
) -> None:
    leave_alone(daemon, "mon*", "other*")
    with monitor_running(daemon, "mon*", "--json") as out:
        daemon.ip("link", "add", "other0", "type", "veth", "peer", "name", "other1")
        daemon.ip("link", "add", "mon0", "type", "veth", "peer", "name", "mon1")
        lines = out.until(lambda line: '"name":"mon0","changed":[],"old":null' in line)
        # (one change at a time: within the coalescing window they would be one delta)
        daemon.ip("link", "set", "mon0", "mtu", "1400")
        lines += out.until(lambda line: '"mtu":1400' in line and '"changed":["mtu"]' in line)
    deltas = [json.loads(line) for line in lines]  # every line is one JSON object
    names = {c["name"] for d in deltas for c in d["interfaces"]}
    assert names == {"mon0", "mon1"}  # other0/1 filtered out
    added = [c for d in deltas for c in d["interfaces"] if c["old"] is None]
    assert {c["name"] for c in added} == {"mon0", "mon1"}
    assert deltas[-1]["interfaces"][0]["old"]["mtu"] == 1500


def test_nmstatectl_monitor_prints_readable_lines(daemon: Sandbox) -> None:
    leave_alone(daemon, "mon*")
    with monitor_running(daemon) as out:
        daemon.ip("link", "add", "mon0", "type", "veth", "peer", "name", "mon1")
        added = out.until(lambda line: "mon0: added (veth, down, mtu 1500)" in line)
        daemon.ip("addr", "add", "192.0.2.33/24", "dev", "mon0")
        address = out.until(lambda line: "mon0: " in line and "+192.0.2.33/24" in line)
        daemon.ip("link", "set", "mon0", "mtu", "1400")
        mtu = out.until(lambda line: "mon0: mtu 1500 → 1400" in line)
        daemon.ip("link", "del", "mon0")
        removed = out.until(lambda line: "mon0: removed" in line)
    for line in added[-1:] + address[-1:] + mtu[-1:] + removed[-1:]:
        assert re.match(r"\d\d:\d\d:\d\d\.\d{3} mon0: ", line), line


def test_nmstatectl_monitor_without_the_daemon_fails_with_one_line(sandbox: Sandbox) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "nmstatectl"), "monitor"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 69
    assert done.stderr.strip().splitlines() == [
        "nmstatectl: error: nmstated is not running (no owner of org.nmstate)"
    ]

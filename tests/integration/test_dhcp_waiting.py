"""``dhcp: true`` is up at once: no lease is waited for, and a real server's lease arrives later.

nmstate gives a dynamic family an infinite DHCP timeout and counts the
interface as up once NetworkManager only waits for the lease.  With IPv6
disabled nothing else can make NetworkManager report "activated", so these
tests see the difference: without the rule an apply with no DHCP server
fails after NetworkManager's 45 s timeout and is rolled back.

The server is a real dnsmasq on the other end of the NIC's wire (the veth
peer in the sandbox's wire namespace).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from tests.bus import call
from tests.events import nm_checkpoints
from tests.helpers import Ctl, static_nic_state
from tests.subscriber import Subscriber

NIC = "eth2"
WIRE = "wire2"  # its peer in the wire namespace (sandbox/core.py)
SERVER = ipaddress.IPv4Interface("192.0.2.1/24")
POOL = (ipaddress.IPv4Address("192.0.2.100"), ipaddress.IPv4Address("192.0.2.150"))
INFINITY = "2147483647"  # NetworkManager's "infinity" for dhcp-timeout
WAITING_FOR_IP = 70  # NMDeviceState IP_CONFIG
# Limits only a broken system reaches; nothing is timed.
SERVER_START_LIMIT = 30.0
LEASE_LIMIT = 60.0

DHCP_ONLY = f"""\
interfaces:
- name: {NIC}
  type: ethernet
  state: up
  ipv4:
    enabled: true
    dhcp: true
  ipv6:
    enabled: false
"""

STATIC = static_nic_state(NIC, "198.51.100.7")


def shown(nmstatectl: Ctl) -> dict[str, Any]:
    result = nmstatectl("show", "--json", NIC)
    assert result.returncode == 0, result.stderr
    (iface,) = json.loads(result.stdout)["interfaces"]
    return dict(iface)


def profile_values(box: Sandbox, *keys: str) -> list[str]:
    """*keys* of the NIC's NetworkManager profile, as nmcli prints them."""
    return box.nmcli("-g", ",".join(keys), "connection", "show", NIC).stdout.strip().split("\n")


def device_state(box: Sandbox) -> int:
    """NetworkManager's NMDeviceState of the NIC (70: waiting for its IP configuration)."""
    out = box.nmcli("-g", "GENERAL.STATE", "device", "show", NIC).stdout
    return int(out.split()[0])


def activation(box: Sandbox) -> tuple[str, int]:
    """The NIC's active connection and the version of its applied profile: a new
    activation changes both, a Reapply that changes settings the second."""
    out = box.nmcli("-g", "GENERAL.DBUS-PATH,GENERAL.CON-PATH", "device", "show", NIC).stdout
    device, active = out.split()
    reply = call(
        box.bus_address,
        "GetAppliedConnection",
        "u",
        [0],
        path=device,
        interface="org.freedesktop.NetworkManager.Device",
        destination="org.freedesktop.NetworkManager",
    )
    assert reply.error is None, reply.message
    return active, int(reply.body[1])


def test_dhcp_with_no_server_is_up_at_once(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    result = nmstatectl("apply", "-", stdin=DHCP_ONLY)
    assert result.returncode == 0, result.stderr

    # Applied and committed while NetworkManager still asks for a lease.
    assert nm_checkpoints(box.bus_address) == []
    assert device_state(box) == WAITING_FOR_IP
    assert profile_values(box, "ipv4.method", "ipv4.dhcp-timeout") == ["auto", INFINITY]
    iface = shown(nmstatectl)
    assert iface["state"] == "up"
    assert iface["ipv4"]["enabled"] is True and iface["ipv4"]["dhcp"] is True
    assert iface["ipv4"].get("address", []) == []
    assert iface["ipv6"] == {"enabled": False}

    # The same again touches nothing: what Show says is what was asked for.
    before = activation(box)
    again = nmstatectl("apply", "-", stdin=DHCP_ONLY)
    assert again.returncode == 0, again.stderr
    assert activation(box) == before
    assert device_state(box) == WAITING_FOR_IP

    # From waiting for a lease to static: the timeout goes with DHCP.
    static = nmstatectl("apply", "-", stdin=STATIC)
    assert static.returncode == 0, static.stderr
    assert profile_values(box, "ipv4.method", "ipv4.dhcp-timeout") == ["manual", "0"]
    iface = shown(nmstatectl)
    assert iface["ipv4"]["dhcp"] is False
    assert iface["ipv4"]["address"] == [{"ip": "198.51.100.7", "prefix-length": 24}]


BRIDGE_DHCP = """\
interfaces:
- name: br-dhcp
  type: linux-bridge
  state: up
  bridge:
    options:
      stp:
        enabled: false
    port:
    - name: eth3
  ipv4:
    enabled: true
    dhcp: true
  ipv6:
    enabled: false
"""


def test_bridge_with_dhcp_and_no_server_is_up_once_its_port_is(nmstatectl: Ctl) -> None:
    """A controller is waited for after its ports; the same rule ends that wait."""
    result = nmstatectl("apply", "-", stdin=BRIDGE_DHCP)
    assert result.returncode == 0, result.stderr
    bridge, port = (
        json.loads(nmstatectl("show", "--json", name).stdout)["interfaces"][0]
        for name in ("br-dhcp", "eth3")
    )
    assert bridge["state"] == "up" and bridge["ipv4"]["dhcp"] is True
    assert [p["name"] for p in bridge["bridge"]["port"]] == ["eth3"]
    assert port["state"] == "up" and port["controller"] == "br-dhcp"
    out = nmstatectl.box.nmcli("-g", "GENERAL.STATE", "device", "show", "br-dhcp").stdout
    assert int(out.split()[0]) == WAITING_FOR_IP


class DhcpServer:
    """dnsmasq's log, read as it comes from its stderr (a thread of its own)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._text = ""
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="dnsmasq-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self._text += line.decode(errors="replace")
                self._cond.notify_all()

    def wait_log(self, text: str, limit: float) -> None:
        """Until dnsmasq has logged *text* (woken by each line it logs)."""
        with self._cond:
            if not self._cond.wait_for(lambda: text in self._text, limit):
                raise AssertionError(f"dnsmasq did not log {text!r}; it logged:\n{self._text}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait(SERVER_START_LIMIT)
        self._reader.join(SERVER_START_LIMIT)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def dhcp_server(daemon: Sandbox) -> Iterator[DhcpServer]:
    """dnsmasq serving DHCPv4 on the peer of NIC; stopped by its pid afterwards."""
    if shutil.which("dnsmasq") is None:
        pytest.skip("dnsmasq is not installed (Debian package dnsmasq-base)")
    workdir = Path(tempfile.mkdtemp(prefix="nmstated-dhcp-"))
    in_wire = ["ip", "netns", "exec", daemon.wire_netns]
    subprocess.run(
        [*in_wire, "ip", "addr", "add", str(SERVER), "dev", WIRE], check=True, capture_output=True
    )
    cmd = [
        *in_wire,
        "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",  # no DNS
        f"--interface={WIRE}",
        "--bind-interfaces",
        f"--dhcp-range={POOL[0]},{POOL[1]},{SERVER.netmask},1h",
        f"--dhcp-leasefile={workdir / 'leases'}",
        f"--pid-file={workdir / 'pid'}",
        "--log-dhcp",
        "--log-facility=-",  # stderr
    ]
    # `ip netns exec` execs dnsmasq in place: the pid is dnsmasq's.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    server = DhcpServer(proc)
    try:
        # Logged once its DHCP socket is bound.
        server.wait_log("DHCP, IP range", SERVER_START_LIMIT)
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _leased(change: dict[str, Any]) -> bool:
    new = change.get("new") or {}
    addresses = (new.get("ipv4") or {}).get("address") or []
    return change.get("name") == NIC and any(_in_pool(a["ip"]) for a in addresses)


def _in_pool(ip: str) -> bool:
    return POOL[0] <= ipaddress.IPv4Address(ip) <= POOL[1]


def test_dhcp_lease_from_a_real_server(nmstatectl: Ctl, dhcp_server: DhcpServer) -> None:
    box = nmstatectl.box
    with Subscriber(box.bus_address) as bus:
        result = nmstatectl("apply", "-", stdin=DHCP_ONLY)
        assert result.returncode == 0, result.stderr
        # The daemon announces the leased address once the kernel has it.
        delta = bus.expect_delta(
            lambda d: any(_leased(c) for c in d.get("interfaces", [])), LEASE_LIMIT
        )
    (change,) = [c for c in delta["interfaces"] if _leased(c)]
    (lease,) = [a for a in change["new"]["ipv4"]["address"] if _in_pool(a["ip"])]
    assert lease["prefix-length"] == SERVER.network.prefixlen

    # The server handed out exactly that address; the kernel has it as a lease.
    dhcp_server.wait_log(f"DHCPACK({WIRE}) {lease['ip']}", LEASE_LIMIT)
    (kernel,) = [
        a
        for link in box.ip_json("addr", "show", "dev", NIC)
        for a in link["addr_info"]
        if a.get("local") == lease["ip"]
    ]
    assert kernel["prefixlen"] == lease["prefix-length"] and kernel.get("dynamic") is True
    assert profile_values(box, "ipv4.dhcp-timeout") == [INFINITY]
    _show_lists_the_lease_and_applying_it_back_changes_nothing(nmstatectl, lease["ip"])
    _dhcp_off_keeps_the_lease_as_a_static_address(nmstatectl, lease["ip"])


def _show_lists_the_lease_and_applying_it_back_changes_nothing(nmstatectl: Ctl, ip: str) -> None:
    """As nmstate: Show lists the lease with its lifetimes, the running config does not,
    and an Apply of Show's output ignores it (no static address, no write, no reactivation)."""
    box = nmstatectl.box
    full = nmstatectl("show", "--json", NIC)
    assert full.returncode == 0, full.stderr
    (iface,) = json.loads(full.stdout)["interfaces"]
    assert iface["state"] == "up" and iface["ipv4"]["dhcp"] is True
    (listed,) = iface["ipv4"]["address"]
    assert listed["ip"] == ip and listed["prefix-length"] == SERVER.network.prefixlen
    for key in ("valid-life-time", "preferred-life-time"):
        seconds = listed[key].removesuffix("sec")
        assert seconds.isdigit() and 0 < int(seconds) <= 3600, listed

    running = nmstatectl("show", "--json", "--running-config", NIC)
    assert running.returncode == 0, running.stderr
    (configured,) = json.loads(running.stdout)["interfaces"]
    assert configured["ipv4"]["dhcp"] is True and configured["ipv4"]["address"] == []

    keyfiles = {p.name: p.stat().st_mtime_ns for p in box.keyfile_dir.iterdir()}
    before = activation(box)
    again = nmstatectl("apply", "-", stdin=full.stdout)
    assert again.returncode == 0, again.stderr
    assert activation(box) == before
    assert {p.name: p.stat().st_mtime_ns for p in box.keyfile_dir.iterdir()} == keyfiles
    assert profile_values(box, "ipv4.method") == ["auto"]
    assert profile_values(box, "ipv4.addresses") == [""]  # no static address
    log = box.log_path("nmstated").read_text()
    assert f"{NIC}: ignoring ipv4 addresses {ip}/{SERVER.network.prefixlen}" in log
    (kept,) = [
        a
        for link in box.ip_json("addr", "show", "dev", NIC)
        for a in link["addr_info"]
        if a.get("local") == ip
    ]
    assert kept.get("dynamic") is True


DHCP_OFF = f"""\
interfaces:
- name: {NIC}
  ipv4:
    dhcp: false
"""


def _dhcp_off_keeps_the_lease_as_a_static_address(nmstatectl: Ctl, ip: str) -> None:
    """nmstate: turning DHCP off without listing addresses keeps the current ones, static."""
    box = nmstatectl.box
    result = nmstatectl("apply", "-", stdin=DHCP_OFF)
    assert result.returncode == 0, result.stderr
    address = f"{ip}/{SERVER.network.prefixlen}"
    assert profile_values(box, "ipv4.method") == ["manual"]
    assert profile_values(box, "ipv4.addresses") == [address]
    assert f"{NIC}: ipv4 is no longer dynamic: its current addresses {address}" in (
        box.log_path("nmstated").read_text()
    )
    iface = shown(nmstatectl)
    assert iface["ipv4"]["dhcp"] is False
    assert iface["ipv4"]["address"] == [{"ip": ip, "prefix-length": SERVER.network.prefixlen}]

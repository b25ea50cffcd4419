"""The same state applied twice: the second apply writes nothing and moves no link.

Two independent witnesses watch the second apply:

* NetworkManager's own signals on the bus (``dbus-monitor``): any profile
  added, updated or removed, any device or activation state change, any
  property change other than the apply's checkpoint shows up there;
* the kernel's link notifications in the sandbox namespace (a netlink
  socket subscribed before the apply, drained after it).

Both are read up to a marker sent after the apply, so nothing is timed.
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from pyroute2 import netns
from pyroute2.netlink.rtnl import RTMGRP_LINK
from pyroute2.netlink.rtnl.marshal import MarshalRtnl

from sandbox import Sandbox
from tests.helpers import Ctl

DEADLINE = 30.0
STATE = """
interfaces:
- name: veth0
  type: veth
  veth:
    peer: veth1
  ipv4:
    enabled: true
    address:
    - ip: 198.51.100.1
      prefix-length: 24
- name: vxlan10
  type: vxlan
  vxlan:
    base-iface: veth0
    id: 10
    remote: 198.51.100.2
  mtu: 1400
- name: br0
  type: linux-bridge
  bridge:
    options:
      stp:
        enabled: true
        forward-delay: 10
    port:
    - name: eth1
      stp-path-cost: 10
    - name: eth2
  ipv4:
    enabled: true
    address:
    - ip: 192.0.2.1
      prefix-length: 24
- name: eth3
  type: ethernet
  mtu: 1400
  ipv4:
    enabled: true
    address:
    - ip: 192.0.3.1
      prefix-length: 24
  ipv6:
    enabled: true
    address:
    - ip: 2001:db8:3::1
      prefix-length: 64
routes:
  config:
  - destination: 203.0.113.0/24
    next-hop-interface: br0
    next-hop-address: 192.0.2.254
    table-id: 100
  - destination: 0.0.0.0/0
    next-hop-interface: eth3
    next-hop-address: 192.0.3.254
route-rules:
  config:
  - ip-from: 192.0.2.0/24
    priority: 1000
    route-table: 100
dns-resolver:
  config:
    server:
    - 192.0.2.53
    search:
    - example.org
"""


@dataclass
class BusSignal:
    header: str
    body: list[str] = field(default_factory=list)

    @property
    def strings(self) -> list[str]:
        return [m for line in self.body for m in re.findall(r'^\s*string "(.*)"$', line)]

    def is_bookkeeping(self) -> bool:
        """Not a change of the network: the apply's own checkpoint coming and going,
        and traffic counters (if some client asked NetworkManager for them)."""
        if self.strings[:1] == ["org.freedesktop.NetworkManager.Device.Statistics"]:
            return True
        if "path=/org/freedesktop/NetworkManager/Checkpoint/" in self.header:
            return True
        if "member=InterfacesAdded" in self.header or "member=InterfacesRemoved" in self.header:
            return any("/org/freedesktop/NetworkManager/Checkpoint/" in line for line in self.body)
        if "path=/org/freedesktop/NetworkManager;" in self.header and "PropertiesChanged" in (
            self.header
        ):
            return set(self.strings) <= {"org.freedesktop.NetworkManager", "Checkpoints"}
        return False


@contextmanager
def networkmanager_signals(box: Sandbox) -> Iterator[list[BusSignal]]:
    """Every NetworkManager signal from entering the block until a marker sent on leaving it."""
    marker = f"mark{uuid.uuid4().hex[:8]}"
    monitor = subprocess.Popen(
        [
            "dbus-monitor",
            "--address",
            box.bus_address,
            "type='signal',sender='org.freedesktop.NetworkManager'",
            "type='signal',interface='org.nmstate.Test'",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert monitor.stdout is not None
    reader = LineReader(monitor.stdout)
    seen: list[BusSignal] = []
    try:
        # Becoming a monitor makes the bus take its name away: from then on it sees all.
        reader.until(lambda line: "member=NameLost" in line)
        yield seen
        subprocess.run(
            [
                "busctl",
                f"--address={box.bus_address}",
                "emit",
                "/org/nmstate/test",
                "org.nmstate.Test",
                "Mark",
                "s",
                marker,
            ],
            check=True,
        )
        for line in reader.until(lambda line: f'string "{marker}"' in line):
            if line.startswith("signal "):
                seen.append(BusSignal(line))
            elif seen and line.startswith(" "):
                seen[-1].body.append(line)
        seen[:] = [s for s in seen if "org.nmstate.Test" not in s.header]
    finally:
        monitor.terminate()
        monitor.wait(timeout=10)
        monitor.stdout.close()


class LineReader:
    """Lines from a pipe, read without buffering behind select's back."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._pending = b""
        self.lines: list[str] = []

    def until(self, done: Callable[[str], bool]) -> list[str]:
        """Lines up to and including the first one *done* accepts."""
        taken: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while True:
            while b"\n" in self._pending:
                raw, self._pending = self._pending.split(b"\n", 1)
                line = raw.decode(errors="replace")
                taken.append(line)
                if done(line):
                    return taken
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            assert ready, f"dbus-monitor said nothing more within {DEADLINE} s: {taken[-5:]}"
            chunk = os.read(self._fd, 1 << 16)
            assert chunk, f"dbus-monitor ended: {taken[-8:]}"
            self._pending += chunk


@contextmanager
def link_events(box: Sandbox) -> Iterator[list[tuple[str, str | None]]]:
    """Kernel link notifications in the sandbox from entering the block to leaving it.

    The socket is subscribed before the block runs; the kernel queues each
    notification on it as the change happens, so draining it afterwards
    sees all of them.
    """
    netns.pushns(box.netns)
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    finally:
        netns.popns()
    events: list[tuple[str, str | None]] = []
    try:
        sock.bind((0, RTMGRP_LINK))
        sock.setblocking(False)
        yield events
        marshal = MarshalRtnl()
        while True:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                break
            events.extend(
                (msg["event"], msg.get_attr("IFLA_IFNAME")) for msg in marshal.parse(data)
            )
    finally:
        sock.close()


def test_the_same_state_twice_writes_nothing_and_moves_no_link(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    first = nmstatectl("apply", "-", stdin=STATE)
    assert first.returncode == 0, first.stderr

    with link_events(box) as links, networkmanager_signals(box) as signals:
        second = nmstatectl("apply", "-", stdin=STATE)
    assert second.returncode == 0, second.stderr

    writes = [(s.header, s.body) for s in signals if not s.is_bookkeeping()]
    assert writes == []
    assert links == []
    # The witnesses do see changes: a real change shows up in both.
    with link_events(box) as links, networkmanager_signals(box) as signals:
        third = nmstatectl(
            "apply", "-", stdin=STATE.replace("mtu: 1400\n  ipv4", "mtu: 1300\n  ipv4")
        )
    assert third.returncode == 0, third.stderr
    assert ("RTM_NEWLINK", "eth3") in links
    assert any("member=Updated" in s.header for s in signals)

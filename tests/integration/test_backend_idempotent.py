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

import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from pyroute2 import netns
from pyroute2.netlink.rtnl import RTMGRP_LINK
from pyroute2.netlink.rtnl.marshal import MarshalRtnl

from sandbox import Sandbox
from tests.bus_monitor import BusMessage, bus_messages
from tests.helpers import Ctl

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


def networkmanager_signals(box: Sandbox) -> AbstractContextManager[list[BusMessage]]:
    """Every NetworkManager signal from entering the block until leaving it."""
    return bus_messages(box, "type='signal',sender='org.freedesktop.NetworkManager'")


def is_bookkeeping(signal: BusMessage) -> bool:
    """Not a change of the network: the apply's own checkpoint coming and going,
    and traffic counters (if some client asked NetworkManager for them)."""
    if signal.strings[:1] == ["org.freedesktop.NetworkManager.Device.Statistics"]:
        return True
    if "path=/org/freedesktop/NetworkManager/Checkpoint/" in signal.header:
        return True
    if "member=InterfacesAdded" in signal.header or "member=InterfacesRemoved" in signal.header:
        return any("/org/freedesktop/NetworkManager/Checkpoint/" in line for line in signal.body)
    if "path=/org/freedesktop/NetworkManager;" in signal.header and "PropertiesChanged" in (
        signal.header
    ):
        return set(signal.strings) <= {"org.freedesktop.NetworkManager", "Checkpoints"}
    return False


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

    writes = [(s.header, s.body) for s in signals if not is_bookkeeping(s)]
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

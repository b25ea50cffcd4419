"""Bad input: InvalidArgument naming the place, nothing changed, the daemon still serving."""

from __future__ import annotations

import json

import pytest
from dbus_fast import Variant

from sandbox import Sandbox
from tests.bus import call

ETH = "interfaces:\n- name: eth1\n"

BAD_INPUTS = [
    ("not-yaml", "interfaces: [name: eth1\n", "line 2"),
    ("list-at-top", "- name: eth1\n", "top level"),
    ("unknown-top-key", "interfaces: []\nintrefaces: []\n", "intrefaces"),
    ("empty", "", "top level"),
    ("bad-json", '{"interfaces": [}', "line 1"),
    (
        "not-an-ip",
        ETH + "  ipv4:\n    address:\n    - {ip: 192.0.2.300, prefix-length: 24}\n",
        "interfaces[0].ipv4.address[0].ip",
    ),
    (
        "v6-in-v4",
        ETH + "  ipv4:\n    address:\n    - {ip: '2001:db8::1', prefix-length: 64}\n",
        "interfaces[0].ipv4.address[0].ip",
    ),
    (
        "prefix-33",
        ETH + "  ipv4:\n    address:\n    - {ip: 192.0.2.1, prefix-length: 33}\n",
        "interfaces[0].ipv4.address[0].prefix-length",
    ),
    ("mtu-0", ETH + "  mtu: 0\n", "interfaces[0].mtu"),
    ("mtu-float", ETH + "  mtu: 1500.5\n", "interfaces[0].mtu"),
    ("mtu-hex", ETH + "  mtu: 0x5dc\n", "interfaces[0].mtu"),
    ("name-too-long", "interfaces:\n- name: averyveryverylongname\n", "interfaces[0].name"),
    ("name-slash", "interfaces:\n- name: eth/1\n", "interfaces[0].name"),
    ("duplicate-key", ETH + "  name: eth2\n", "line 3"),
    ("tab-indent", ETH + "\tmtu: 1500\n", "line 3"),
    ("nbsp-indent", ETH + "\u00a0 mtu: 1500\n", "line 3"),
    ("yes-as-bool", ETH + "  ipv4:\n    enabled: yes\n", "interfaces[0].ipv4.enabled"),
    ("unknown-iface-key", ETH + "  ipv5: {}\n", "interfaces[0]"),
    ("wrong-section", ETH + "  type: ethernet\n  bridge: {}\n", "interfaces[0]"),
    ("bad-state", ETH + "  state: sideways\n", "interfaces[0].state"),
    ("duplicate-iface", ETH + "- name: eth1\n", "interfaces[1]"),
    (
        "duplicate-address",
        ETH + "  ipv4:\n    address:\n    - {ip: 192.0.2.1, prefix-length: 24}\n"
        "    - {ip: 192.0.2.1, prefix-length: 24}\n",
        "interfaces[0].ipv4.address[1]",
    ),
    (
        "autoconf-without-dhcp",
        ETH + "  ipv6:\n    enabled: true\n    dhcp: false\n    autoconf: true\n",
        "interfaces[0].ipv6.autoconf",
    ),
    (
        "vxlan-without-base",
        "interfaces:\n- name: vx0\n  type: vxlan\n  vxlan: {id: 5}\n",
        "interfaces[0].vxlan",
    ),
    ("short-mac", ETH + "  mac-address: 12:34\n", "interfaces[0].mac-address"),
    (
        "route-prefix",
        "routes:\n  config:\n  - destination: 198.51.100.0/33\n",
        "routes.config[0].destination",
    ),
    (
        "route-via-disabled",
        ETH + "  ipv4:\n    enabled: false\nroutes:\n  config:\n  - destination: 198.51.100.0/24\n"
        "    next-hop-interface: eth1\n",
        "routes.config[0].next-hop-interface",
    ),
    (
        "dns-not-a-list",
        "dns-resolver:\n  config:\n    server: 192.0.2.53\n",
        "dns-resolver.config.server",
    ),
]


def snapshot(box: Sandbox) -> tuple[str, str]:
    links = json.dumps(box.ip_json("addr"), sort_keys=True)
    profiles = box.nmcli("-t", "-f", "UUID,NAME,DEVICE", "connection", "show").stdout
    return links, profiles


@pytest.mark.parametrize(
    ("text", "where"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input(shared_daemon: Sandbox, text: str, where: str) -> None:
    before = snapshot(shared_daemon)
    for method, body in (
        ("Apply", [text, {}]),
        ("ApplyAndWait", [text, {"dry-run": Variant("b", True)}]),
    ):
        reply = call(shared_daemon.bus_address, method, "sa{sv}", body)
        assert reply.error == "org.nmstate.Error.InvalidArgument", (method, reply)
        assert where in reply.message
        assert "\n" not in reply.message and "Traceback" not in reply.message
    assert snapshot(shared_daemon) == before
    assert call(shared_daemon.bus_address, "Show", "a{sv}", [{}]).error is None


def test_the_table_is_big_enough() -> None:
    assert len({case[0] for case in BAD_INPUTS}) >= 20


@pytest.mark.parametrize("seconds", [0, 86401, 2**32 - 1])
def test_rollback_timeout_out_of_range(shared_daemon: Sandbox, seconds: int) -> None:
    options = {"commit": Variant("b", False), "rollback-timeout": Variant("u", seconds)}
    reply = call(shared_daemon.bus_address, "Apply", "sa{sv}", ["interfaces: []\n", options])
    assert reply.error == "org.nmstate.Error.InvalidArgument"
    assert reply.message.startswith(f"options.rollback-timeout: {seconds} is not between 1 and")

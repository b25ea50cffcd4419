"""Kernel reader against a real kernel, inside throw-away network namespaces.

Builds veths, a bridge with STP, a vxlan, a macvlan, addresses, routes and a
rule in ``nmsdkr-<pid>`` with ``ip``, then checks ``read_snapshot`` +
``to_nmstate`` field by field against ``ip -j`` run in the same namespace.
The root namespace is never touched.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from nmstated.backends.kernel import read_snapshot, to_nmstate
from nmstated.backends.kernel.reader import Snapshot

pytestmark = pytest.mark.root

PEER_NS_SUFFIX = "-peer"
NS_EXEC = ("ip", "netns", "exec")
VXLAN_ARGS = "id 42 local 192.0.2.1 remote 192.0.2.99 dev under0 dstport 4789 nolearning"


def _run(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def _ip_json(ns: str, *argv: str) -> Any:
    return json.loads(_run("ip", "-n", ns, "-j", *argv) or "[]")


def _build_batch(other: str) -> str:
    return f"""\
link set lo up
link add veth0 type veth peer name veth1
link add ext0 type veth peer name ext0p netns {other}
link add br0 type bridge stp_state 1 forward_delay 1000
link add port0 type veth peer name port0p
link add port1 type veth peer name port1p
link set port0 master br0
link set port1 master br0
link set port1 type bridge_slave cost 7 priority 12 hairpin on
link add under0 type veth peer name under1
link add vxlan42 type vxlan {VXLAN_ARGS}
link add mv0 link veth1 type macvlan mode vepa
link set veth0 mtu 9000
link set veth1 mtu 9000
link set veth0 up
link set veth1 up
link set under0 up
link set under1 up
link set br0 up
link set port0 up
link set port1 up
link set vxlan42 up
addr add 192.0.2.1/24 dev under0
addr add 198.51.100.1/24 dev veth0
addr add 198.51.100.9/32 dev veth0
addr add 2001:db8:1::1/64 dev veth0 nodad
addr add 2001:db8:1::20/64 dev veth0 nodad
addr add 203.0.113.1/24 dev br0
addr add 2001:db8:2::1/64 dev br0 nodad
route add 10.10.0.0/16 via 198.51.100.254 dev veth0
route add 10.20.0.0/16 via 198.51.100.254 dev veth0 table 100
route add 10.30.0.0/16 dev under0 metric 50
route add 2001:db8:99::/48 via 2001:db8:1::fe dev veth0 metric 300
rule add from 10.99.0.0/16 lookup 100 priority 1000
rule add to 10.98.0.0/16 lookup 100 priority 1001
"""


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2 (ip)")
    name = f"nmsdkr-{os.getpid()}"
    other = name + PEER_NS_SUFFIX
    created: list[str] = []
    try:
        for ns in (name, other):
            _run("ip", "netns", "add", ns)
            created.append(ns)
        _run("ip", "-n", name, "-batch", "-", stdin=_build_batch(other))
        _run(*NS_EXEC, name, "sysctl", "-qw", "net.ipv6.conf.under1.disable_ipv6=1")
        yield name
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def _snapshot(ns: str) -> Snapshot:
    return asyncio.run(read_snapshot(ns))


def _expected_type(link: dict[str, Any]) -> str:
    kind = (link.get("linkinfo") or {}).get("info_kind")
    if kind is None:
        return {"loopback": "loopback", "ether": "ethernet"}.get(link["link_type"], "unknown")
    if kind == "veth":
        return "ethernet" if "link_netnsid" in link else "veth"
    return {"bridge": "linux-bridge", "vxlan": "vxlan", "macvlan": "mac-vlan"}[kind]


def test_interfaces_agree_with_ip_link(netns: str) -> None:
    ifaces = {iface["name"]: iface for iface in to_nmstate.interfaces(_snapshot(netns))}
    links = {link["ifname"]: link for link in _ip_json(netns, "-d", "link", "show")}

    assert set(ifaces) == set(links)
    assert set(links) >= {"lo", "veth0", "veth1", "ext0", "br0", "vxlan42", "mv0"}
    for name, link in links.items():
        iface = ifaces[name]
        assert iface["type"] == _expected_type(link), name
        assert iface["mtu"] == link["mtu"], name
        assert iface.get("mac-address") == link["address"].upper(), name
        assert iface["state"] == ("up" if "UP" in link["flags"] else "down"), name
        assert iface.get("controller") == link.get("master"), name
        if iface["type"] == "veth":
            assert iface["veth"] == {"peer": link["link"]}, name

    # veth whose peer lives in the other namespace: an ethernet NIC from here
    assert ifaces["ext0"]["type"] == "ethernet"
    assert "veth" not in ifaces["ext0"]
    assert ifaces["veth0"]["mtu"] == 9000

    # bridge: STP and ports
    br_data = links["br0"]["linkinfo"]["info_data"]
    bridge = ifaces["br0"]["bridge"]
    assert bridge["options"]["stp"]["enabled"] is (br_data["stp_state"] == 1) is True
    assert bridge["options"]["stp"]["forward-delay"] == br_data["forward_delay"] // 100 == 10
    assert bridge["options"]["stp"]["hello-time"] == br_data["hello_time"] // 100
    assert bridge["options"]["stp"]["max-age"] == br_data["max_age"] // 100
    assert bridge["options"]["stp"]["priority"] == br_data["priority"]
    assert bridge["options"]["mac-ageing-time"] == br_data["ageing_time"] // 100
    assert bridge["options"]["multicast-snooping"] is bool(br_data["mcast_snooping"])
    ports = sorted(name for name, link in links.items() if link.get("master") == "br0")
    assert [port["name"] for port in bridge["port"]] == ports == ["port0", "port1"]
    for port in bridge["port"]:
        data = links[port["name"]]["linkinfo"]["info_slave_data"]
        assert port["stp-path-cost"] == data["cost"]
        assert port["stp-priority"] == data["priority"]
        assert port["stp-hairpin-mode"] is data["hairpin"]
    assert bridge["port"][1] == {
        "name": "port1",
        "stp-hairpin-mode": True,
        "stp-path-cost": 7,
        "stp-priority": 12,
    }

    # vxlan
    vx_data = links["vxlan42"]["linkinfo"]["info_data"]
    assert ifaces["vxlan42"]["vxlan"] == {
        "base-iface": vx_data["link"],
        "id": vx_data["id"],
        "remote": vx_data["remote"],
        "local": vx_data["local"],
        "destination-port": vx_data["port"],
        "learning": vx_data["learning"],
    }
    assert ifaces["vxlan42"]["vxlan"]["id"] == 42

    # macvlan
    mv_data = links["mv0"]["linkinfo"]["info_data"]
    assert ifaces["mv0"]["mac-vlan"]["base-iface"] == links["mv0"]["link"] == "veth1"
    assert ifaces["mv0"]["mac-vlan"]["mode"] == mv_data["mode"] == "vepa"
    assert ifaces["mv0"]["mac-vlan"]["promiscuous"] is True


def _addr_set(entries: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(entry["ip"], entry["prefix-length"]) for entry in entries}


def test_addresses_agree_with_ip_addr(netns: str) -> None:
    snapshot = _snapshot(netns)
    static = {iface["name"]: iface for iface in to_nmstate.interfaces(snapshot)}
    everything = {
        iface["name"]: iface
        for iface in to_nmstate.interfaces(snapshot, include_dynamic=True, include_link_local=True)
    }
    for link in _ip_json(netns, "addr", "show"):
        name = link["ifname"]
        for family, key in (("inet", "ipv4"), ("inet6", "ipv6")):
            infos = [info for info in link.get("addr_info", []) if info["family"] == family]
            wanted_all = {(info["local"], info["prefixlen"]) for info in infos}
            wanted_static = {
                (info["local"], info["prefixlen"])
                for info in infos
                if not info.get("dynamic")
                and not (family == "inet6" and ipaddress.ip_address(info["local"]).is_link_local)
            }
            assert _addr_set(everything[name][key].get("address", [])) == wanted_all, name
            assert _addr_set(static[name][key].get("address", [])) == wanted_static, name
            assert static[name][key]["enabled"] is bool(infos), name

    assert static["veth0"]["ipv4"]["address"] == [
        {"ip": "198.51.100.1", "prefix-length": 24},
        {"ip": "198.51.100.9", "prefix-length": 32},
    ]
    assert static["veth0"]["ipv6"]["address"] == [
        {"ip": "2001:db8:1::1", "prefix-length": 64},
        {"ip": "2001:db8:1::20", "prefix-length": 64},
    ]
    assert static["lo"]["ipv4"]["address"] == [{"ip": "127.0.0.1", "prefix-length": 8}]

    # IPv6 turned off by sysctl on one end of a pair
    links = {link.name: link for link in snapshot.links.values()}
    assert links["under1"].ipv6_disabled is True
    assert links["under0"].ipv6_disabled is False
    assert static["under1"]["ipv6"] == {"enabled": False}
    sysctl = _run(*NS_EXEC, netns, "sysctl", "-n", "net.ipv6.conf.under1.disable_ipv6")
    assert sysctl.strip() == "1"


_TABLES = {"main": 254, "local": 255, "default": 253}


def _ip_routes(ns: str) -> set[tuple[str, int, str | None]]:
    found: set[tuple[str, int, str | None]] = set()
    for family, default, host in (("-4", "0.0.0.0/0", 32), ("-6", "::/0", 128)):
        for route in _ip_json(ns, family, "route", "show", "table", "all"):
            table = route.get("table", "main")
            table_id = _TABLES.get(table) or int(table)
            if table_id == 255 or route.get("type", "unicast") not in (
                "unicast",
                "blackhole",
                "unreachable",
                "prohibit",
            ):
                continue
            dst = route["dst"]
            dst = default if dst == "default" else dst if "/" in dst else f"{dst}/{host}"
            hops = route.get("nexthops") or [route]
            for hop in hops:
                found.add((dst, table_id, hop.get("dev")))
    return found


def test_routes_agree_with_ip_route(netns: str) -> None:
    result = to_nmstate.routes(_snapshot(netns))
    ours = {
        (entry["destination"], entry["table-id"], entry.get("next-hop-interface"))
        for entry in result["running"]
    }
    assert ours == _ip_routes(netns)
    config = {
        (entry["destination"], entry["table-id"], entry.get("next-hop-address"), entry["metric"])
        for entry in result["config"]
    }
    assert config == {
        ("10.10.0.0/16", 254, "198.51.100.254", 0),
        ("10.20.0.0/16", 100, "198.51.100.254", 0),
        ("10.30.0.0/16", 254, None, 50),
        ("2001:db8:99::/48", 254, "2001:db8:1::fe", 300),
    }
    only_veth0 = to_nmstate.routes(_snapshot(netns), names=["veth0"])
    assert {entry["destination"] for entry in only_veth0["config"]} == {
        "10.10.0.0/16",
        "10.20.0.0/16",
        "2001:db8:99::/48",
    }


def test_rules_agree_with_ip_rule(netns: str) -> None:
    ours = to_nmstate.route_rules(_snapshot(netns))["config"]
    expected = []
    for family, name in (("-4", "ipv4"), ("-6", "ipv6")):
        for rule in _ip_json(netns, family, "rule", "show"):
            table = _TABLES.get(rule["table"]) or int(rule["table"])
            if (
                rule["src"] == "all"
                and "dst" not in rule
                and (rule["priority"], table)
                in {
                    (0, 255),
                    (32766, 254),
                    (32767, 253),
                }
            ):
                continue
            entry: dict[str, Any] = {"family": name}
            if rule["src"] != "all":
                entry["ip-from"] = f"{rule['src']}/{rule['srclen']}"
            if "dst" in rule:
                entry["ip-to"] = f"{rule['dst']}/{rule['dstlen']}"
            entry["priority"] = rule["priority"]
            entry["route-table"] = table
            expected.append(entry)
    assert ours == sorted(expected, key=lambda entry: entry["priority"])
    assert [entry["priority"] for entry in ours] == [1000, 1001]


def test_missing_namespace_is_not_created() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: opens a socket in a network namespace")
    name = f"nmsdkr-{os.getpid()}-absent"
    with pytest.raises(OSError):
        _snapshot(name)
    assert not os.path.exists(f"/var/run/netns/{name}")

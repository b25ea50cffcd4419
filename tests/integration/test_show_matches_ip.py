"""Show agrees field by field with `ip -j` for links made directly with ip."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl

# `onlink`: NetworkManager takes the new veth over as an external device while
# this runs, and the kernel may briefly not count the gateway as reachable.
SETUP = """\
link add va type veth peer name vb
link set va up
link set vb up
addr add 198.51.100.1/24 dev va
addr add 2001:db8:1::1/64 dev va
link add br0 type bridge stp_state 1 forward_delay 700
link set eth1 master br0
link set eth2 master br0
link set br0 up
link add vx0 type vxlan id 42 dev eth3 local 198.51.100.1 remote 198.51.100.2 dstport 4789
link set vx0 mtu 1400
link add mv0 link eth4 type macvlan mode bridge
route add 203.0.113.0/24 via 198.51.100.254 dev va onlink proto static
"""


def show(ctl: Ctl) -> dict[str, dict[str, Any]]:
    result = ctl("show", "--json", "va", "vb", "br0", "eth1", "eth2", "vx0", "mv0")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    return {iface["name"]: iface for iface in state["interfaces"]} | {"routes": state["routes"]}


def test_show_agrees_with_ip(nmstatectl: Ctl) -> None:
    box: Sandbox = nmstatectl.box

    subprocess.run(["ip", "-n", box.netns, "-batch", "-"], input=SETUP, text=True, check=True)
    shown = show(nmstatectl)
    links = {link["ifname"]: link for link in box.ip_json("-d", "link", "show")}
    addrs = {link["ifname"]: link.get("addr_info", []) for link in box.ip_json("addr", "show")}

    for name in ("va", "vb", "br0", "eth1", "eth2", "vx0", "mv0"):
        iface, link = shown[name], links[name]
        assert iface["mtu"] == link["mtu"], name
        assert iface["mac-address"] == link["address"].upper(), name
        assert iface["state"] in ("up", "down", "ignore")
        v4 = sorted((a["local"], a["prefixlen"]) for a in addrs[name] if a["family"] == "inet")
        assert (
            sorted((a["ip"], a["prefix-length"]) for a in iface.get("ipv4", {}).get("address", []))
            == v4
        ), name

    assert shown["va"]["type"] == "veth" and shown["va"]["veth"]["peer"] == "vb"
    assert shown["vb"]["veth"]["peer"] == "va"
    v6 = [a for a in shown["va"]["ipv6"]["address"]]
    assert {"ip": "2001:db8:1::1", "prefix-length": 64} in v6

    bridge = shown["br0"]
    assert bridge["type"] == "linux-bridge"
    assert sorted(p["name"] for p in bridge["bridge"]["port"]) == ["eth1", "eth2"]
    info = links["br0"]["linkinfo"]["info_data"]
    assert bridge["bridge"]["options"]["stp"]["enabled"] == (info["stp_state"] != 0)
    assert bridge["bridge"]["options"]["stp"]["forward-delay"] == info["forward_delay"] // 100
    assert shown["eth1"]["controller"] == "br0"

    vxlan = shown["vx0"]["vxlan"]
    vx_info = links["vx0"]["linkinfo"]["info_data"]
    assert (vxlan["id"], vxlan["base-iface"], vxlan["destination-port"]) == (
        vx_info["id"],
        "eth3",
        vx_info["port"],
    )
    assert (vxlan["local"], vxlan["remote"]) == (vx_info["local"], vx_info["remote"])

    macvlan = shown["mv0"]
    assert macvlan["type"] == "mac-vlan"
    assert macvlan["mac-vlan"]["base-iface"] == "eth4"
    assert macvlan["mac-vlan"]["mode"] == links["mv0"]["linkinfo"]["info_data"]["mode"]

    routes = box.ip_json("route", "show", "203.0.113.0/24")
    (route,) = [r for r in shown["routes"]["config"] if r["destination"] == "203.0.113.0/24"]
    assert route["next-hop-address"] == routes[0]["gateway"]
    assert route["next-hop-interface"] == routes[0]["dev"] == "va"

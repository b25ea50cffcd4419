"""Show agrees field by field with `ip -j` for links made directly with ip."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl

# The links are named hm-*: the sandbox's NetworkManager leaves those alone
# (docs/sandbox.md).  Otherwise it takes a new veth over while this runs and
# may flush the addresses just added -- Show and ip would then both be right,
# about different moments.
SETUP = """\
link add hm-va type veth peer name hm-vb
link set hm-va up
link set hm-vb up
addr add 198.51.100.1/24 dev hm-va
addr add 2001:db8:1::1/64 dev hm-va
link add hm-br0 type bridge stp_state 1 forward_delay 700
link add hm-p0 type veth peer name hm-p0p
link add hm-p1 type veth peer name hm-p1p
link set hm-p0 master hm-br0
link set hm-p1 master hm-br0
link set hm-br0 up
link add hm-vx0 type vxlan id 42 dev eth3 local 198.51.100.1 remote 198.51.100.2 dstport 4789
link set hm-vx0 mtu 1400
link add hm-mv0 link eth4 type macvlan mode bridge
route add 203.0.113.0/24 via 198.51.100.254 dev hm-va onlink proto static
"""
NAMES = ("hm-va", "hm-vb", "hm-br0", "hm-p0", "hm-p1", "hm-vx0", "hm-mv0")


def show(ctl: Ctl) -> dict[str, dict[str, Any]]:
    result = ctl("show", "--json", *NAMES)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    return {iface["name"]: iface for iface in state["interfaces"]} | {"routes": state["routes"]}


def test_show_agrees_with_ip(nmstatectl: Ctl) -> None:
    box: Sandbox = nmstatectl.box

    subprocess.run(["ip", "-n", box.netns, "-batch", "-"], input=SETUP, text=True, check=True)
    shown = show(nmstatectl)
    links = {link["ifname"]: link for link in box.ip_json("-d", "link", "show")}
    addrs = {link["ifname"]: link.get("addr_info", []) for link in box.ip_json("addr", "show")}

    for name in NAMES:
        iface, link = shown[name], links[name]
        assert iface["mtu"] == link["mtu"], name
        assert iface["mac-address"] == link["address"].upper(), name
        assert iface["state"] in ("up", "down", "ignore")
        v4 = sorted((a["local"], a["prefixlen"]) for a in addrs[name] if a["family"] == "inet")
        assert (
            sorted((a["ip"], a["prefix-length"]) for a in iface.get("ipv4", {}).get("address", []))
            == v4
        ), name

    assert shown["hm-va"]["type"] == "veth" and shown["hm-va"]["veth"]["peer"] == "hm-vb"
    assert shown["hm-vb"]["veth"]["peer"] == "hm-va"
    v6 = [a for a in shown["hm-va"]["ipv6"]["address"]]
    assert {"ip": "2001:db8:1::1", "prefix-length": 64} in v6

    bridge = shown["hm-br0"]
    assert bridge["type"] == "linux-bridge"
    assert sorted(p["name"] for p in bridge["bridge"]["port"]) == ["hm-p0", "hm-p1"]
    info = links["hm-br0"]["linkinfo"]["info_data"]
    assert bridge["bridge"]["options"]["stp"]["enabled"] == (info["stp_state"] != 0)
    assert bridge["bridge"]["options"]["stp"]["forward-delay"] == info["forward_delay"] // 100
    assert shown["hm-p0"]["controller"] == "hm-br0"

    vxlan = shown["hm-vx0"]["vxlan"]
    vx_info = links["hm-vx0"]["linkinfo"]["info_data"]
    assert (vxlan["id"], vxlan["base-iface"], vxlan["destination-port"]) == (
        vx_info["id"],
        "eth3",
        vx_info["port"],
    )
    assert (vxlan["local"], vxlan["remote"]) == (vx_info["local"], vx_info["remote"])

    macvlan = shown["hm-mv0"]
    assert macvlan["type"] == "mac-vlan"
    assert macvlan["mac-vlan"]["base-iface"] == "eth4"
    assert macvlan["mac-vlan"]["mode"] == links["hm-mv0"]["linkinfo"]["info_data"]["mode"]

    routes = box.ip_json("route", "show", "203.0.113.0/24")
    (route,) = [r for r in shown["routes"]["config"] if r["destination"] == "203.0.113.0/24"]
    assert route["next-hop-address"] == routes[0]["gateway"]
    assert route["next-hop-interface"] == routes[0]["dev"] == "hm-va"

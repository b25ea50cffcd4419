"""Kernel reader, no root: netlink messages built by hand -> models -> nmstate.

Messages are built as pyroute2 objects, encoded to bytes and decoded again,
so the parsers see exactly what pyroute2 hands out for a kernel message
(e.g. the macvlan mode already turned into a name).  A few tests use plain
dicts, which the parsers accept as well.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from nmstated.backends.kernel import (
    Address,
    Link,
    Route,
    Rule,
    Snapshot,
    address_from_msg,
    address_key,
    link_from_msg,
    route_from_msg,
    route_key,
    rule_from_msg,
    rule_key,
    to_nmstate,
)

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
IFF_UP = 0x1
RTM_NEWLINK, RTM_DELLINK = 16, 17
RTM_NEWADDR, RTM_DELADDR = 20, 21
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTM_NEWRULE = 32


def _roundtrip(cls: Any, msg_type: int, fields: dict[str, Any], attrs: list[Any]) -> Any:
    msg = cls()
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg["header"]["type"] = msg_type
    msg.encode()
    decoded = cls(msg.data)
    decoded.decode()
    return decoded


def link_msg(
    index: int,
    name: str,
    *,
    kind: str | None = None,
    data: list[Any] | None = None,
    port_kind: str | None = None,
    port_data: list[Any] | None = None,
    up: bool = True,
    mtu: int = 1500,
    mac: str | None = "52:54:00:12:34:56",
    ifi_type: int = 1,
    link: int | None = None,
    master: int | None = None,
    netnsid: int | None = None,
    extra: list[Any] | None = None,
    msg_type: int = RTM_NEWLINK,
) -> Any:
    attrs: list[Any] = [
        ("IFLA_IFNAME", name),
        ("IFLA_MTU", mtu),
        ("IFLA_OPERSTATE", "UP" if up else "DOWN"),
    ]
    if mac is not None:
        attrs.append(("IFLA_ADDRESS", mac))
    if link is not None:
        attrs.append(("IFLA_LINK", link))
    if master is not None:
        attrs.append(("IFLA_MASTER", master))
    if netnsid is not None:
        attrs.append(("IFLA_LINK_NETNSID", netnsid))
    info: list[Any] = []
    if kind is not None:
        info.append(("IFLA_INFO_KIND", kind))
        if data is not None:
            info.append(("IFLA_INFO_DATA", {"attrs": data}))
    if port_kind is not None:
        info.append(("IFLA_INFO_SLAVE_KIND", port_kind))
        if port_data is not None:
            info.append(("IFLA_INFO_SLAVE_DATA", {"attrs": port_data}))
    if info:
        attrs.append(("IFLA_LINKINFO", {"attrs": info}))
    attrs.extend(extra or [])
    fields = {"index": index, "ifi_type": ifi_type, "flags": IFF_UP if up else 0}
    return _roundtrip(ifinfmsg, msg_type, fields, attrs)


def addr_msg(
    index: int,
    address: str,
    prefixlen: int,
    *,
    family: int | None = None,
    permanent: bool = True,
    valid: int = 0xFFFFFFFF,
    scope: int = 0,
    peer: str | None = None,
    msg_type: int = RTM_NEWADDR,
) -> Any:
    if family is None:
        family = AF_INET6 if ":" in address else AF_INET
    flags = 0x80 if permanent else 0
    attrs: list[Any] = [("IFA_ADDRESS", peer or address)]
    if family == AF_INET or peer is not None:
        attrs.append(("IFA_LOCAL", address))
    attrs += [
        ("IFA_FLAGS", flags),
        (
            "IFA_CACHEINFO",
            {"ifa_preferred": valid, "ifa_valid": valid, "cstamp": 1, "tstamp": 1},
        ),
    ]
    fields = {
        "family": family,
        "prefixlen": prefixlen,
        "flags": flags,
        "scope": scope,
        "index": index,
    }
    return _roundtrip(ifaddrmsg, msg_type, fields, attrs)


def route_msg(
    dst: str | None,
    dst_len: int,
    *,
    family: int = AF_INET,
    table: int = 254,
    gateway: str | None = None,
    oif: int | None = 2,
    metric: int | None = None,
    proto: int = 4,
    scope: int = 0,
    rtype: int = 1,
    multipath: list[Any] | None = None,
    msg_type: int = RTM_NEWROUTE,
) -> Any:
    attrs: list[Any] = [("RTA_TABLE", table)]
    if dst is not None:
        attrs.append(("RTA_DST", dst))
    if gateway is not None:
        attrs.append(("RTA_GATEWAY", gateway))
    if oif is not None:
        attrs.append(("RTA_OIF", oif))
    if metric is not None:
        attrs.append(("RTA_PRIORITY", metric))
    if multipath is not None:
        attrs.append(("RTA_MULTIPATH", multipath))
    fields = {
        "family": family,
        "dst_len": dst_len,
        "src_len": 0,
        "tos": 0,
        "table": table if table < 256 else 252,
        "proto": proto,
        "scope": scope,
        "type": rtype,
        "flags": 0,
    }
    return _roundtrip(rtmsg, msg_type, fields, attrs)


def rule_msg(
    priority: int | None,
    table: int,
    *,
    family: int = AF_INET,
    src: str | None = None,
    src_len: int = 0,
    fwmark: int | None = None,
    iif: str | None = None,
    action: int = 1,
    proto: int = 0,
) -> Any:
    attrs: list[Any] = [("FRA_TABLE", table), ("FRA_SUPPRESS_PREFIXLEN", 0xFFFFFFFF)]
    if proto:
        attrs.append(("FRA_PROTOCOL", proto))
    if priority is not None:
        attrs.append(("FRA_PRIORITY", priority))
    if src is not None:
        attrs.append(("FRA_SRC", src))
    if fwmark is not None:
        attrs.append(("FRA_FWMARK", fwmark))
    if iif is not None:
        attrs.append(("FRA_IIFNAME", iif))
    fields = {
        "family": family,
        "dst_len": 0,
        "src_len": src_len,
        "tos": 0,
        "table": table if table < 256 else 252,
        "action": action,
        "flags": 0,
    }
    return _roundtrip(fibmsg, RTM_NEWRULE, fields, attrs)


def snapshot(
    links: Sequence[Any],
    addresses: Sequence[Any] = (),
    routes: Sequence[Any] = (),
    rules: Sequence[Any] = (),
) -> Snapshot:
    parsed = [link_from_msg(msg) for msg in links]
    return Snapshot(
        links=MappingProxyType({link.index: link for link in parsed}),
        addresses=tuple(address_from_msg(msg) for msg in addresses),
        routes=tuple(route_from_msg(msg) for msg in routes),
        rules=tuple(rule_from_msg(msg) for msg in rules),
    )


def by_name(ifaces: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {iface["name"]: iface for iface in ifaces}


# --------------------------------------------------------------------------
# links and interface types


def test_ethernet_key_order_and_uppercase_mac() -> None:
    snap = snapshot([link_msg(2, "eth0", mac="52:54:00:ab:cd:ef", mtu=9000)])
    (iface,) = to_nmstate.interfaces(snap)
    assert list(iface) == ["name", "type", "state", "mtu", "mac-address", "ipv4", "ipv6"]
    assert iface["type"] == "ethernet"
    assert iface["state"] == "up"
    assert iface["mtu"] == 9000
    assert iface["mac-address"] == "52:54:00:AB:CD:EF"
    assert iface["ipv4"] == {"enabled": False}
    assert iface["ipv6"] == {"enabled": False}


def test_link_model_fields() -> None:
    link = link_from_msg(link_msg(7, "eth1", up=False, master=9, link=7))
    assert link == Link(
        index=7,
        name="eth1",
        kind=None,
        mtu=1500,
        mac="52:54:00:12:34:56",
        operstate="DOWN",
        up=False,
        controller_index=9,
        link_index=None,  # IFLA_LINK pointing at itself means "no parent"
        link_netnsid=None,
        info=(),
        flags=0,
    )
    assert hash(link) == hash(link_from_msg(link_msg(7, "eth1", up=False, master=9, link=7)))


def test_loopback_and_unknown_types() -> None:
    snap = snapshot(
        [
            link_msg(1, "lo", mac="00:00:00:00:00:00", ifi_type=772, mtu=65536),
            link_msg(3, "ifb0", kind="ifb"),
            link_msg(4, "tunl0", ifi_type=768, mac=None),
        ]
    )
    ifaces = by_name(to_nmstate.interfaces(snap))
    assert ifaces["lo"]["type"] == "loopback"
    assert ifaces["lo"]["mac-address"] == "00:00:00:00:00:00"
    assert ifaces["ifb0"]["type"] == "unknown"
    assert ifaces["tunl0"]["type"] == "unknown"
    assert "mac-address" not in ifaces["tunl0"]


def test_down_state() -> None:
    snap = snapshot([link_msg(2, "eth0", up=False)])
    assert to_nmstate.interfaces(snap)[0]["state"] == "down"


def test_veth_same_namespace_and_other_namespace() -> None:
    snap = snapshot(
        [
            link_msg(2, "veth0", kind="veth", link=3),
            link_msg(3, "veth1", kind="veth", link=2),
            link_msg(4, "ext0", kind="veth", link=2, netnsid=0),
        ]
    )
    ifaces = by_name(to_nmstate.interfaces(snap))
    assert ifaces["veth0"]["type"] == "veth"
    assert ifaces["veth0"]["veth"] == {"peer": "veth1"}
    assert ifaces["veth1"]["veth"] == {"peer": "veth0"}
    assert ifaces["ext0"]["type"] == "ethernet"
    assert "veth" not in ifaces["ext0"]
    assert snap.links[4].link_netnsid == 0


BRIDGE_DATA = [
    ("IFLA_BR_HELLO_TIMER", 185),
    ("IFLA_BR_GC_TIMER", 29995),
    ("IFLA_BR_FORWARD_DELAY", 1500),
    ("IFLA_BR_HELLO_TIME", 200),
    ("IFLA_BR_MAX_AGE", 2000),
    ("IFLA_BR_AGEING_TIME", 30000),
    ("IFLA_BR_STP_STATE", 1),
    ("IFLA_BR_PRIORITY", 4096),
    ("IFLA_BR_VLAN_FILTERING", 0),
    ("IFLA_BR_VLAN_PROTOCOL", 0x88A8),
    ("IFLA_BR_GROUP_FWD_MASK", 8),
    ("IFLA_BR_GROUP_ADDR", "01:80:c2:00:00:00"),
    ("IFLA_BR_MCAST_ROUTER", 2),
    ("IFLA_BR_MCAST_SNOOPING", 0),
    ("IFLA_BR_MCAST_QUERY_USE_IFADDR", 0),
    ("IFLA_BR_MCAST_QUERIER", 1),
    ("IFLA_BR_MCAST_HASH_ELASTICITY", 16),
    ("IFLA_BR_MCAST_HASH_MAX", 512),
    ("IFLA_BR_MCAST_LAST_MEMBER_CNT", 2),
    ("IFLA_BR_MCAST_STARTUP_QUERY_CNT", 2),
    ("IFLA_BR_MCAST_LAST_MEMBER_INTVL", 100),
    ("IFLA_BR_MCAST_MEMBERSHIP_INTVL", 26000),
    ("IFLA_BR_MCAST_QUERIER_INTVL", 25500),
    ("IFLA_BR_MCAST_QUERY_INTVL", 12500),
    ("IFLA_BR_MCAST_QUERY_RESPONSE_INTVL", 1000),
    ("IFLA_BR_MCAST_STARTUP_QUERY_INTVL", 3125),
]


def brport(cost: int, priority: int, hairpin: int, timer: int = 0) -> list[Any]:
    return [
        ("IFLA_BRPORT_STATE", 3),
        ("IFLA_BRPORT_PRIORITY", priority),
        ("IFLA_BRPORT_COST", cost),
        ("IFLA_BRPORT_MODE", hairpin),
        ("IFLA_BRPORT_HOLD_TIMER", timer),
    ]


def bridge_snapshot(timer: int = 0) -> Snapshot:
    data = [
        (k, v + timer if k.endswith("_TIMER") and isinstance(v, int) else v) for k, v in BRIDGE_DATA
    ]
    return snapshot(
        [
            link_msg(5, "br0", kind="bridge", data=data),
            link_msg(
                7,
                "eth2",
                master=5,
                port_kind="bridge",
                port_data=brport(100, 32, 1, timer),
            ),
            link_msg(
                6,
                "eth1",
                master=5,
                port_kind="bridge",
                port_data=brport(4, 16, 0, timer),
            ),
        ]
    )


def test_bridge_options_units_and_ports() -> None:
    ifaces = by_name(to_nmstate.interfaces(bridge_snapshot()))
    br = ifaces["br0"]
    assert br["type"] == "linux-bridge"
    assert list(br) == [
        "name",
        "type",
        "state",
        "mtu",
        "mac-address",
        "bridge",
        "ipv4",
        "ipv6",
    ]
    options = br["bridge"]["options"]
    assert options["stp"] == {
        "enabled": True,
        "forward-delay": 15,
        "hello-time": 2,
        "max-age": 20,
        "priority": 4096,
    }
    assert options["mac-ageing-time"] == 300
    assert options["multicast-snooping"] is False
    assert options["multicast-querier"] is True
    assert options["multicast-router"] == "enabled"
    assert options["group-forward-mask"] == 8
    assert options["group-addr"] == "01:80:C2:00:00:00"
    assert options["hash-max"] == 512
    assert options["vlan-protocol"] == "802.1ad"
    assert options["multicast-startup-query-interval"] == 3125
    assert br["bridge"]["port"] == [
        {"name": "eth1", "stp-hairpin-mode": False, "stp-path-cost": 4, "stp-priority": 16},
        {"name": "eth2", "stp-hairpin-mode": True, "stp-path-cost": 100, "stp-priority": 32},
    ]
    assert ifaces["eth1"]["controller"] == "br0"
    assert ifaces["eth2"]["controller"] == "br0"
    assert list(ifaces["eth1"])[:6] == [
        "name",
        "type",
        "state",
        "mtu",
        "mac-address",
        "controller",
    ]
    assert "controller" not in br


def test_bridge_timers_do_not_change_identity() -> None:
    first, second = bridge_snapshot(0), bridge_snapshot(77)
    assert first.links == second.links
    assert first.links[5].info_get("br_stp_state") == 1
    assert first.links[5].info_get("br_hello_timer") is None
    assert first.links[7].port_kind == "bridge"


def test_vxlan() -> None:
    data = [
        ("IFLA_VXLAN_ID", 42),
        ("IFLA_VXLAN_GROUP", "192.0.2.9"),
        ("IFLA_VXLAN_LINK", 2),
        ("IFLA_VXLAN_LOCAL", "192.0.2.1"),
        ("IFLA_VXLAN_LEARNING", 0),
        ("IFLA_VXLAN_PORT", 4790),
        ("IFLA_VXLAN_PORT_RANGE", {"low": 0, "high": 0}),
    ]
    snap = snapshot([link_msg(2, "eth0"), link_msg(8, "vxlan42", kind="vxlan", data=data)])
    vx = by_name(to_nmstate.interfaces(snap))["vxlan42"]
    assert vx["type"] == "vxlan"
    assert vx["vxlan"] == {
        "base-iface": "eth0",
        "id": 42,
        "remote": "192.0.2.9",
        "local": "192.0.2.1",
        "destination-port": 4790,
        "learning": False,
    }
    assert snap.links[8].link_index == 2  # from IFLA_VXLAN_LINK


def test_vxlan_ipv6_remote_without_base() -> None:
    data = [("IFLA_VXLAN_ID", 7), ("IFLA_VXLAN_GROUP6", "2001:db8::9"), ("IFLA_VXLAN_PORT", 4789)]
    snap = snapshot([link_msg(8, "vx7", kind="vxlan", data=data)])
    (vx,) = to_nmstate.interfaces(snap)
    assert vx["vxlan"] == {"id": 7, "remote": "2001:db8::9", "destination-port": 4789}


@pytest.mark.parametrize(
    ("mode", "flags", "name", "promiscuous"),
    [
        (4, 0, "bridge", True),
        (2, 1, "vepa", False),
        (1, 0, "private", True),
        (8, 0, "passthru", True),
    ],
)
def test_macvlan(mode: int, flags: int, name: str, promiscuous: bool) -> None:
    data = [("IFLA_MACVLAN_MODE", mode), ("IFLA_MACVLAN_FLAGS", flags)]
    snap = snapshot([link_msg(2, "eth0"), link_msg(9, "mv0", kind="macvlan", data=data, link=2)])
    mv = by_name(to_nmstate.interfaces(snap))["mv0"]
    assert mv["type"] == "mac-vlan"
    assert mv["mac-vlan"] == {"base-iface": "eth0", "mode": name, "promiscuous": promiscuous}


def test_macvlan_from_plain_dict_with_int_mode() -> None:
    msg = {
        "index": 9,
        "ifi_type": 1,
        "flags": 1,
        "attrs": [
            ("IFLA_IFNAME", "mv1"),
            ("IFLA_MTU", 1500),
            ("IFLA_LINK", 2),
            (
                "IFLA_LINKINFO",
                {
                    "attrs": [
                        ("IFLA_INFO_KIND", "macvlan"),
                        ("IFLA_INFO_DATA", {"attrs": [("IFLA_MACVLAN_MODE", 16)]}),
                    ]
                },
            ),
        ],
    }
    link = link_from_msg(msg)
    snap = Snapshot(
        links=MappingProxyType({2: link_from_msg(link_msg(2, "eth0")), 9: link}),
        addresses=(),
        routes=(),
        rules=(),
    )
    mv = by_name(to_nmstate.interfaces(snap))["mv1"]
    assert mv["mac-vlan"] == {"base-iface": "eth0", "mode": "source", "promiscuous": True}
    assert link.operstate == "UNKNOWN"
    assert link.mac is None


def test_macvlan_parent_in_other_namespace_has_no_base_iface() -> None:
    data = [("IFLA_MACVLAN_MODE", 4)]
    snap = snapshot(
        [link_msg(2, "eth0"), link_msg(9, "mv0", kind="macvlan", data=data, link=2, netnsid=1)]
    )
    mv = by_name(to_nmstate.interfaces(snap))["mv0"]
    assert mv["mac-vlan"] == {"mode": "bridge", "promiscuous": True}


@pytest.mark.parametrize(("proto", "name"), [(0x8100, "802.1q"), (0x88A8, "802.1ad")])
def test_vlan(proto: int, name: str) -> None:
    data = [
        ("IFLA_VLAN_ID", 101),
        ("IFLA_VLAN_FLAGS", {"flags": 1, "mask": 0xFFFFFFFF}),
        ("IFLA_VLAN_PROTOCOL", proto),
    ]
    snap = snapshot([link_msg(2, "eth0"), link_msg(10, "eth0.101", kind="vlan", data=data, link=2)])
    vlan = by_name(to_nmstate.interfaces(snap))["eth0.101"]
    assert vlan["type"] == "vlan"
    assert vlan["vlan"] == {"base-iface": "eth0", "id": 101, "protocol": name}
    assert hash(snap.links[10])  # nested flags are frozen into tuples


def test_bond_with_ports() -> None:
    data = [
        ("IFLA_BOND_MODE", 1),
        ("IFLA_BOND_ACTIVE_SLAVE", 12),
        ("IFLA_BOND_MIIMON", 100),
        ("IFLA_BOND_UPDELAY", 0),
        ("IFLA_BOND_DOWNDELAY", 200),
        ("IFLA_BOND_USE_CARRIER", 1),
        ("IFLA_BOND_ARP_INTERVAL", 0),
        ("IFLA_BOND_ARP_VALIDATE", 0),
        ("IFLA_BOND_PRIMARY", 12),
        ("IFLA_BOND_PRIMARY_RESELECT", 2),
        ("IFLA_BOND_FAIL_OVER_MAC", 1),
        ("IFLA_BOND_XMIT_HASH_POLICY", 1),
        ("IFLA_BOND_AD_LACP_RATE", 1),
        ("IFLA_BOND_MIN_LINKS", 0),
    ]
    port = [("IFLA_BOND_SLAVE_STATE", 0), ("IFLA_BOND_SLAVE_LINK_FAILURE_COUNT", 3)]
    snap = snapshot(
        [
            link_msg(11, "bond0", kind="bond", data=data),
            link_msg(13, "eth4", master=11, port_kind="bond", port_data=port),
            link_msg(12, "eth3", master=11, port_kind="bond", port_data=port),
        ]
    )
    ifaces = by_name(to_nmstate.interfaces(snap))
    bond = ifaces["bond0"]
    assert bond["type"] == "bond"
    agg = bond["link-aggregation"]
    assert agg["mode"] == "active-backup"
    assert agg["port"] == ["eth3", "eth4"]
    assert agg["options"]["miimon"] == 100
    assert agg["options"]["downdelay"] == 200
    assert agg["options"]["primary"] == "eth3"
    assert agg["options"]["primary_reselect"] == "failure"
    assert agg["options"]["fail_over_mac"] == "active"
    assert agg["options"]["use_carrier"] is True
    assert agg["options"]["arp_validate"] == "none"
    # Options of other modes are not shown.
    assert "xmit_hash_policy" not in agg["options"]
    assert "lacp_rate" not in agg["options"]
    assert ifaces["eth3"]["controller"] == "bond0"
    # A counter of the port is not part of the link's identity.
    assert snap.links[12].info_get("bond_slave_link_failure_count") is None


def test_bond_802_3ad() -> None:
    data = [
        ("IFLA_BOND_MODE", 4),
        ("IFLA_BOND_MIIMON", 100),
        ("IFLA_BOND_XMIT_HASH_POLICY", 1),
        ("IFLA_BOND_AD_LACP_RATE", 1),
        ("IFLA_BOND_AD_SELECT", 2),
        ("IFLA_BOND_ARP_INTERVAL", 0),
    ]
    (bond,) = to_nmstate.interfaces(snapshot([link_msg(11, "bond1", kind="bond", data=data)]))
    options = bond["link-aggregation"]["options"]
    assert bond["link-aggregation"]["mode"] == "802.3ad"
    assert bond["link-aggregation"]["port"] == []
    assert options == {
        "ad_select": "count",
        "lacp_rate": "fast",
        "miimon": 100,
        "xmit_hash_policy": "layer3+4",
    }


def test_dummy_and_vrf() -> None:
    snap = snapshot(
        [
            link_msg(20, "vrf0", kind="vrf", data=[("IFLA_VRF_TABLE", 1001)]),
            link_msg(21, "dummy0", kind="dummy", master=20, port_kind="vrf"),
            link_msg(22, "dummy1", kind="dummy"),
        ]
    )
    ifaces = by_name(to_nmstate.interfaces(snap))
    assert ifaces["dummy1"]["type"] == "dummy"
    assert list(ifaces["dummy1"]) == ["name", "type", "state", "mtu", "mac-address", "ipv4", "ipv6"]
    assert ifaces["vrf0"]["type"] == "vrf"
    assert ifaces["vrf0"]["vrf"] == {"port": ["dummy0"], "route-table-id": 1001}
    assert ifaces["dummy0"]["controller"] == "vrf0"


@pytest.mark.parametrize(("tun_type", "mode"), [(1, "tun"), (2, "tap")])
def test_tun(tun_type: int, mode: str) -> None:
    data = [
        ("IFLA_TUN_OWNER", 1000),
        ("IFLA_TUN_TYPE", tun_type),
        ("IFLA_TUN_PI", 0),
        ("IFLA_TUN_VNET_HDR", 1),
        ("IFLA_TUN_PERSIST", 1),
        ("IFLA_TUN_MULTI_QUEUE", 0),
    ]
    (tun,) = to_nmstate.interfaces(
        snapshot([link_msg(30, "t0", kind="tun", data=data, ifi_type=65534, mac=None)])
    )
    assert tun["type"] == "tun"
    assert tun["tun"] == {
        "mode": mode,
        "owner": 1000,
        "pi": False,
        "vnet-hdr": True,
        "multi-queue": False,
        "persistent": True,
    }
    assert "mac-address" not in tun


def test_names_filter_and_sorting() -> None:
    snap = snapshot([link_msg(3, "b"), link_msg(2, "c"), link_msg(4, "a")])
    assert [i["name"] for i in to_nmstate.interfaces(snap)] == ["a", "b", "c"]
    assert [i["name"] for i in to_nmstate.interfaces(snap, ["c", "a", "zz"])] == ["a", "c"]
    assert to_nmstate.interfaces(snap, []) == []


def test_dellink_event_parses_like_dump() -> None:
    new = link_from_msg(link_msg(2, "veth0", kind="veth", link=3))
    gone = link_from_msg(link_msg(2, "veth0", kind="veth", link=3, msg_type=RTM_DELLINK))
    assert new == gone


# --------------------------------------------------------------------------
# addresses


def test_addresses_static_sorted_and_link_local_hidden() -> None:
    snap = snapshot(
        [link_msg(2, "eth0")],
        [
            addr_msg(2, "192.0.2.10", 24),
            addr_msg(2, "192.0.2.2", 24),
            addr_msg(2, "10.0.0.1", 8),
            addr_msg(2, "2001:db8::10", 64),
            addr_msg(2, "2001:db8::2", 64),
            addr_msg(2, "fe80::1", 64, scope=253),
            addr_msg(2, "198.51.100.7", 24, permanent=False, valid=3600),
            addr_msg(2, "2001:db8:1::99", 64, permanent=False, valid=86400),
        ],
    )
    (iface,) = to_nmstate.interfaces(snap)
    assert iface["ipv4"] == {
        "enabled": True,
        "address": [
            {"ip": "10.0.0.1", "prefix-length": 8},
            {"ip": "192.0.2.2", "prefix-length": 24},
            {"ip": "192.0.2.10", "prefix-length": 24},
        ],
    }
    assert iface["ipv6"] == {
        "enabled": True,
        "address": [
            {"ip": "2001:db8::2", "prefix-length": 64},
            {"ip": "2001:db8::10", "prefix-length": 64},
        ],
    }

    (full,) = to_nmstate.interfaces(snap, include_dynamic=True, include_link_local=True)
    leased = {
        "ip": "198.51.100.7",
        "prefix-length": 24,
        "valid-life-time": "3600sec",
        "preferred-life-time": "3600sec",
    }
    assert leased in full["ipv4"]["address"]
    assert [a["ip"] for a in full["ipv6"]["address"]] == [
        "2001:db8::2",
        "2001:db8::10",
        "2001:db8:1::99",
        "fe80::1",
    ]


def test_only_link_local_ipv6_is_enabled_without_addresses() -> None:
    snap = snapshot([link_msg(2, "eth0")], [addr_msg(2, "fe80::1", 64, scope=253)])
    (iface,) = to_nmstate.interfaces(snap)
    assert iface["ipv6"] == {"enabled": True, "address": []}
    assert iface["ipv4"] == {"enabled": False}


def test_only_dynamic_ipv4_is_enabled() -> None:
    snap = snapshot([link_msg(2, "eth0")], [addr_msg(2, "192.0.2.5", 24, valid=100)])
    (iface,) = to_nmstate.interfaces(snap)
    assert iface["ipv4"] == {"enabled": True, "address": []}


def test_ipv6_disabled_by_sysctl() -> None:
    af_spec = (
        "IFLA_AF_SPEC",
        {"attrs": [("AF_INET6", {"attrs": [("IFLA_INET6_CONF", {"disable_ipv6": 1})]})]},
    )
    snap = snapshot([link_msg(2, "eth0", extra=[af_spec])], [addr_msg(2, "192.0.2.1", 24)])
    assert snap.links[2].ipv6_disabled is True
    (iface,) = to_nmstate.interfaces(snap)
    assert iface["ipv6"] == {"enabled": False}
    assert iface["ipv4"]["enabled"] is True


def test_ipv6_addresses_win_over_a_stale_disable_ipv6() -> None:
    """The flag changes without a link event; the addresses it would remove are the truth."""
    af_spec = (
        "IFLA_AF_SPEC",
        {"attrs": [("AF_INET6", {"attrs": [("IFLA_INET6_CONF", {"disable_ipv6": 1})]})]},
    )
    snap = snapshot([link_msg(2, "eth0", extra=[af_spec])], [addr_msg(2, "2001:db8::1", 64)])
    assert snap.links[2].ipv6_disabled is True
    assert to_nmstate.interfaces(snap)[0]["ipv6"] == {
        "enabled": True,
        "address": [{"ip": "2001:db8::1", "prefix-length": 64}],
    }


def test_ipv6_enabled_by_sysctl_from_encoded_message() -> None:
    af_spec = (
        "IFLA_AF_SPEC",
        {"attrs": [("AF_INET6", {"attrs": [("IFLA_INET6_CONF", {"disable_ipv6": 0})]})]},
    )
    snap = snapshot([link_msg(2, "eth0", extra=[af_spec])], [addr_msg(2, "2001:db8::1", 64)])
    assert snap.links[2].ipv6_disabled is False
    assert to_nmstate.interfaces(snap)[0]["ipv6"]["enabled"] is True


def test_ipv6_disabled_from_plain_dict() -> None:
    conf = {"forwarding": 0, "disable_ipv6": 1}
    msg = {
        "index": 2,
        "ifi_type": 1,
        "flags": 1,
        "attrs": [
            ("IFLA_IFNAME", "eth0"),
            ("IFLA_MTU", 1500),
            (
                "IFLA_AF_SPEC",
                {"attrs": [("AF_INET6", {"attrs": [("IFLA_INET6_CONF", conf)]})]},
            ),
        ],
    }
    assert link_from_msg(msg).ipv6_disabled is True
    no_spec = {"index": 3, "attrs": [("IFLA_IFNAME", "eth1")]}
    assert link_from_msg(no_spec).ipv6_disabled is None


def test_address_model_and_key() -> None:
    address = address_from_msg(addr_msg(2, "192.0.2.1", 24))
    assert address == Address(
        index=2,
        family=AF_INET,
        address="192.0.2.1",
        prefixlen=24,
        scope=0,
        dynamic=False,
        flags=0x80,
    )
    assert address_key(address) == (2, AF_INET, "192.0.2.1", 24)
    deleted = address_from_msg(addr_msg(2, "192.0.2.1", 24, msg_type=RTM_DELADDR))
    assert address_key(deleted) == address_key(address)


def test_address_peer_and_dynamic() -> None:
    p2p = address_from_msg(addr_msg(2, "10.1.1.1", 32, peer="10.1.1.2"))
    assert (p2p.address, p2p.peer) == ("10.1.1.1", "10.1.1.2")
    slaac = address_from_msg(addr_msg(2, "2001:db8::5", 64, permanent=False, valid=2000))
    assert slaac.dynamic and slaac.valid_lft == 2000
    # Permanent flag but a finite lifetime still counts as dynamic.
    leased = address_from_msg(addr_msg(2, "192.0.2.7", 24, permanent=True, valid=50))
    assert leased.dynamic
    # Lifetimes are not identity: a later read of the same lease compares equal.
    later = address_from_msg(addr_msg(2, "192.0.2.7", 24, permanent=True, valid=20))
    assert later == leased


# --------------------------------------------------------------------------
# routes


def route_snapshot() -> Snapshot:
    return snapshot(
        [link_msg(1, "lo", ifi_type=772), link_msg(2, "eth0"), link_msg(3, "eth1")],
        routes=[
            route_msg(None, 0, gateway="192.0.2.1", oif=2, proto=3, metric=100),
            route_msg("192.0.2.0", 24, oif=2, proto=2, scope=253),
            route_msg("198.51.100.0", 24, gateway="192.0.2.254", oif=2, proto=4),
            route_msg("203.0.113.0", 24, gateway="192.0.2.254", oif=2, table=100),
            route_msg("203.0.113.0", 24, gateway="10.0.0.1", oif=3, table=1000),
            route_msg("10.9.0.0", 16, gateway="10.0.0.1", oif=3, proto=16),
            route_msg("192.0.2.5", 32, oif=2, table=255, proto=2, rtype=2),
            route_msg("10.66.0.0", 16, oif=None, rtype=6),
            route_msg(None, 0, family=AF_INET6, gateway="fe80::1", oif=3, metric=1024),
            route_msg("2001:db8::", 64, family=AF_INET6, oif=3, metric=256, proto=2),
            route_msg("ff00::", 8, family=AF_INET6, oif=3, table=255, metric=256, rtype=5),
            route_msg(
                "10.1.0.0",
                16,
                oif=None,
                multipath=[
                    {"oif": 3, "hops": 0, "attrs": [("RTA_GATEWAY", "10.0.0.1")]},
                    {"oif": 2, "hops": 1, "attrs": [("RTA_GATEWAY", "192.0.2.1")]},
                ],
            ),
        ],
    )


def test_route_model() -> None:
    route = route_from_msg(route_msg(None, 0, gateway="192.0.2.1", oif=2, proto=3, metric=100))
    assert route == Route(
        family=AF_INET,
        table=254,
        destination="0.0.0.0/0",
        gateway="192.0.2.1",
        oif=2,
        metric=100,
        protocol=3,
        scope=0,
        type=1,
        source=None,
    )
    assert route_key(route) == (AF_INET, 254, "0.0.0.0/0", 100, 0)
    v6 = route_from_msg(route_msg(None, 0, family=AF_INET6, oif=2, metric=1024))
    assert v6.destination == "::/0"
    big = route_from_msg(route_msg("10.0.0.0", 8, table=1000))
    assert big.table == 1000
    gone = route_from_msg(route_msg("10.0.0.0", 8, table=1000, msg_type=RTM_DELROUTE))
    assert route_key(gone) == route_key(big)


def test_routes_running_and_config() -> None:
    result = to_nmstate.routes(route_snapshot())
    running = {
        (r["destination"], r.get("next-hop-interface"), r["table-id"]) for r in result["running"]
    }
    assert running == {
        ("0.0.0.0/0", "eth0", 254),
        ("10.1.0.0/16", "eth0", 254),
        ("10.1.0.0/16", "eth1", 254),
        ("10.9.0.0/16", "eth1", 254),
        ("10.66.0.0/16", None, 254),
        ("192.0.2.0/24", "eth0", 254),
        ("198.51.100.0/24", "eth0", 254),
        ("203.0.113.0/24", "eth0", 100),
        ("203.0.113.0/24", "eth1", 1000),
        ("::/0", "eth1", 254),
        ("2001:db8::/64", "eth1", 254),
    }
    config = result["config"]
    config_keys = [(r["destination"], r["table-id"]) for r in config]
    assert ("192.0.2.0/24", 254) not in config_keys  # proto kernel
    assert ("10.9.0.0/16", 254) not in config_keys  # proto dhcp
    assert ("2001:db8::/64", 254) not in config_keys
    assert ("0.0.0.0/0", 254) in config_keys  # proto boot
    assert ("203.0.113.0/24", 1000) in config_keys
    for entry in result["running"] + config:
        assert entry["table-id"] != 255
        assert entry["destination"] != "ff00::/8"
    default = next(r for r in config if r["destination"] == "0.0.0.0/0")
    assert default == {
        "destination": "0.0.0.0/0",
        "next-hop-interface": "eth0",
        "next-hop-address": "192.0.2.1",
        "metric": 100,
        "table-id": 254,
    }
    assert list(default) == [
        "destination",
        "next-hop-interface",
        "next-hop-address",
        "metric",
        "table-id",
    ]
    blackhole = next(r for r in config if r["destination"] == "10.66.0.0/16")
    assert blackhole["route-type"] == "blackhole"
    weights = {
        r["next-hop-interface"]: r["weight"] for r in config if r["destination"] == "10.1.0.0/16"
    }
    assert weights == {"eth1": 1, "eth0": 2}
    direct = next(r for r in result["running"] if r["destination"] == "2001:db8::/64")
    assert "next-hop-address" not in direct


def test_routes_order_exact() -> None:
    running = to_nmstate.routes(route_snapshot())["running"]
    keys = [(r["destination"], r["table-id"], r.get("next-hop-interface")) for r in running]
    assert keys == [
        ("203.0.113.0/24", 100, "eth0"),
        ("0.0.0.0/0", 254, "eth0"),
        ("10.1.0.0/16", 254, "eth0"),
        ("10.1.0.0/16", 254, "eth1"),
        ("10.9.0.0/16", 254, "eth1"),
        ("10.66.0.0/16", 254, None),
        ("192.0.2.0/24", 254, "eth0"),
        ("198.51.100.0/24", 254, "eth0"),
        ("203.0.113.0/24", 1000, "eth1"),
        ("::/0", 254, "eth1"),
        ("2001:db8::/64", 254, "eth1"),
    ]


def test_routes_limited_to_names() -> None:
    result = to_nmstate.routes(route_snapshot(), names=["eth1"])
    assert result["running"]
    assert all(r["next-hop-interface"] == "eth1" for r in result["running"] + result["config"])
    assert {r["destination"] for r in result["config"]} == {"203.0.113.0/24", "10.1.0.0/16", "::/0"}


# --------------------------------------------------------------------------
# rules


def test_route_rules_skip_kernel_defaults() -> None:
    snap = snapshot(
        [],
        rules=[
            rule_msg(None, 255, proto=2),
            rule_msg(32766, 254, proto=2),
            rule_msg(32767, 253, proto=2),
            rule_msg(None, 255, family=AF_INET6, proto=2),
            rule_msg(32766, 254, family=AF_INET6, proto=2),
            rule_msg(1000, 100, src="10.9.0.0", src_len=16),
            rule_msg(900, 1000, fwmark=0x10, iif="eth0"),
            rule_msg(32766, 254, family=AF_INET6, src="2001:db8::", src_len=32),
            rule_msg(500, 0, action=6),
        ],
    )
    assert to_nmstate.route_rules(snap) == {
        "config": [
            {"family": "ipv4", "priority": 500, "action": "blackhole"},
            {"family": "ipv4", "priority": 900, "route-table": 1000, "fwmark": 16, "iif": "eth0"},
            {"family": "ipv4", "ip-from": "10.9.0.0/16", "priority": 1000, "route-table": 100},
            {
                "family": "ipv6",
                "ip-from": "2001:db8::/32",
                "priority": 32766,
                "route-table": 254,
            },
        ]
    }


def test_rule_model_and_key() -> None:
    rule = rule_from_msg(rule_msg(1000, 100, src="10.9.0.0", src_len=16))
    assert rule == Rule(
        family=AF_INET,
        priority=1000,
        table=100,
        src="10.9.0.0",
        src_len=16,
        dst=None,
        dst_len=0,
        fwmark=None,
        fwmask=None,
        iif=None,
        action=1,
        suppress_prefixlen=None,
    )
    assert rule_key(rule) == rule_key(
        rule_from_msg(rule_msg(1000, 100, src="10.9.0.0", src_len=16))
    )
    assert rule_key(rule) != rule_key(
        rule_from_msg(rule_msg(1000, 101, src="10.9.0.0", src_len=16))
    )


# --------------------------------------------------------------------------
# properties


_route_specs = st.lists(
    st.tuples(
        st.integers(0, 255),  # second octet
        st.sampled_from([8, 16, 24, 32]),
        st.sampled_from([100, 254, 255, 1000]),
        st.sampled_from([2, 3, 4, 16]),
        st.sampled_from([1, 2, 5, 6]),
        st.integers(0, 3),  # metric
        st.sampled_from([2, 3]),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(_route_specs)
def test_routes_properties(specs: list[tuple[int, int, int, int, int, int, int]]) -> None:
    msgs = [
        route_msg(
            f"10.{octet}.0.0", plen, table=table, proto=proto, rtype=rtype, metric=metric, oif=oif
        )
        for octet, plen, table, proto, rtype, metric, oif in specs
    ]
    snap = snapshot([link_msg(2, "eth0"), link_msg(3, "eth1")], routes=msgs)
    result = to_nmstate.routes(snap)
    running, config = result["running"], result["config"]
    # config is a sub-list of running, both in order, none from the local table
    assert all(entry in running for entry in config)
    assert all(entry["table-id"] != 255 for entry in running)
    assert running == sorted(running, key=to_nmstate._route_sort_key)
    assert config == sorted(config, key=to_nmstate._route_sort_key)
    # deterministic whatever the dump order
    reversed_snap = snapshot([link_msg(2, "eth0"), link_msg(3, "eth1")], routes=msgs[::-1])
    assert to_nmstate.routes(reversed_snap) == result
    # names partition the entries that have an interface
    eth0 = to_nmstate.routes(snap, ["eth0"])["running"]
    eth1 = to_nmstate.routes(snap, ["eth1"])["running"]
    with_iface = [e for e in running if "next-hop-interface" in e]
    assert len(eth0) + len(eth1) == len(with_iface)

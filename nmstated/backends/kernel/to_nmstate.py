"""Kernel snapshot -> nmstate-shaped dicts (``interfaces``, ``routes``,
``route-rules``), as ``nmstatectl show`` would print them.

Units follow nmstate: bridge STP timers and the MAC ageing time in seconds
(the kernel reports centiseconds), multicast intervals as the kernel reports
them (centiseconds), MAC addresses in upper case.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any, Final

from .netlink import (
    AF_INET,
    AF_INET6,
    ARPHRD_ETHER,
    ARPHRD_INFINIBAND,
    ARPHRD_LOOPBACK,
    FR_ACT_BLACKHOLE,
    FR_ACT_PROHIBIT,
    FR_ACT_TO_TBL,
    FR_ACT_UNREACHABLE,
    RT_TABLE_DEFAULT,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTN_BLACKHOLE,
    RTN_PROHIBIT,
    RTN_UNICAST,
    RTN_UNREACHABLE,
    RTPROT_BOOT,
    RTPROT_STATIC,
    Address,
    Link,
    Route,
    Rule,
)
from .reader import Snapshot

__all__ = ["interface_type", "interfaces", "route_rules", "routes"]

_KIND_TYPES: Final = {
    "bridge": "linux-bridge",
    "bond": "bond",
    "vlan": "vlan",
    "vxlan": "vxlan",
    "macvlan": "mac-vlan",
    "macvtap": "mac-vtap",
    "tun": "tun",
    "dummy": "dummy",
    "vrf": "vrf",
    "team": "team",
    "ipvlan": "ipvlan",
    "macsec": "macsec",
    "hsr": "hsr",
    "ipoib": "infiniband",
    "xfrm": "xfrm",
    "openvswitch": "ovs-interface",
}

_VLAN_PROTOCOLS: Final = {0x8100: "802.1q", 0x88A8: "802.1ad"}
_MACVLAN_MODES: Final = {
    0: "unknown",
    1: "private",
    2: "vepa",
    4: "bridge",
    8: "passthru",
    16: "source",
}
_MACVLAN_FLAG_NOPROMISC: Final = 1
_TUN_MODES: Final = {1: "tun", 2: "tap"}
_MCAST_ROUTER: Final = {0: "disabled", 1: "auto", 2: "enabled"}

_BOND_MODES: Final = {
    0: "balance-rr",
    1: "active-backup",
    2: "balance-xor",
    3: "broadcast",
    4: "802.3ad",
    5: "balance-tlb",
    6: "balance-alb",
}
_BOND_XMIT_HASH: Final = {
    0: "layer2",
    1: "layer3+4",
    2: "layer2+3",
    3: "encap2+3",
    4: "encap3+4",
    5: "vlan+srcmac",
}
_BOND_ARP_VALIDATE: Final = {
    0: "none",
    1: "active",
    2: "backup",
    3: "all",
    4: "filter",
    5: "filter_active",
    6: "filter_backup",
}
_BOND_ENUMS: Final[dict[str, dict[int, str]]] = {
    "ad_select": {0: "stable", 1: "bandwidth", 2: "count"},
    "arp_all_targets": {0: "any", 1: "all"},
    "arp_validate": _BOND_ARP_VALIDATE,
    "fail_over_mac": {0: "none", 1: "active", 2: "follow"},
    "lacp_rate": {0: "slow", 1: "fast"},
    "primary_reselect": {0: "always", 1: "better", 2: "failure"},
    "xmit_hash_policy": _BOND_XMIT_HASH,
}
# option name -> (netlink key, kind of value)
_BOND_OPTIONS: Final = (
    ("ad_actor_sys_prio", "bond_ad_actor_sys_prio", "int"),
    ("ad_actor_system", "bond_ad_actor_system", "mac"),
    ("ad_select", "bond_ad_select", "enum"),
    ("ad_user_port_key", "bond_ad_user_port_key", "int"),
    ("all_slaves_active", "bond_all_slaves_active", "int"),
    ("arp_all_targets", "bond_arp_all_targets", "enum"),
    ("arp_interval", "bond_arp_interval", "int"),
    ("arp_ip_target", "bond_arp_ip_target", "list"),
    ("arp_validate", "bond_arp_validate", "enum"),
    ("downdelay", "bond_downdelay", "int"),
    ("fail_over_mac", "bond_fail_over_mac", "enum"),
    ("lacp_rate", "bond_ad_lacp_rate", "enum"),
    ("lp_interval", "bond_lp_interval", "int"),
    ("miimon", "bond_miimon", "int"),
    ("min_links", "bond_min_links", "int"),
    ("num_grat_arp", "bond_num_peer_notif", "int"),
    ("packets_per_slave", "bond_packets_per_slave", "int"),
    ("primary", "bond_primary", "iface"),
    ("primary_reselect", "bond_primary_reselect", "enum"),
    ("resend_igmp", "bond_resend_igmp", "int"),
    ("tlb_dynamic_lb", "bond_tlb_dynamic_lb", "bool"),
    ("updelay", "bond_updelay", "int"),
    ("use_carrier", "bond_use_carrier", "bool"),
    ("xmit_hash_policy", "bond_xmit_hash_policy", "enum"),
)
# Options that mean something only in some modes (as the kernel's sysfs and
# nmstate show them); the rest apply to every mode.
_BOND_OPTION_MODES: Final = {
    "ad_actor_sys_prio": {"802.3ad"},
    "ad_actor_system": {"802.3ad"},
    "ad_select": {"802.3ad"},
    "ad_user_port_key": {"802.3ad"},
    "lacp_rate": {"802.3ad"},
    "arp_all_targets": {"balance-rr", "active-backup", "balance-xor", "broadcast"},
    "arp_interval": {"balance-rr", "active-backup", "balance-xor", "broadcast"},
    "arp_ip_target": {"balance-rr", "active-backup", "balance-xor", "broadcast"},
    "arp_validate": {"balance-rr", "active-backup", "balance-xor", "broadcast"},
    "fail_over_mac": {"active-backup"},
    "packets_per_slave": {"balance-rr"},
    "primary": {"active-backup", "balance-tlb", "balance-alb"},
    "primary_reselect": {"active-backup", "balance-tlb", "balance-alb"},
    "tlb_dynamic_lb": {"balance-tlb"},
    "xmit_hash_policy": {"balance-xor", "802.3ad", "balance-tlb"},
}

_ROUTE_TYPES: Final = {
    RTN_UNICAST: None,
    RTN_BLACKHOLE: "blackhole",
    RTN_UNREACHABLE: "unreachable",
    RTN_PROHIBIT: "prohibit",
}
_RULE_ACTIONS: Final = {
    FR_ACT_BLACKHOLE: "blackhole",
    FR_ACT_UNREACHABLE: "unreachable",
    FR_ACT_PROHIBIT: "prohibit",
}
_DEFAULT_RULES: Final = {(0, RT_TABLE_LOCAL), (32766, RT_TABLE_MAIN), (32767, RT_TABLE_DEFAULT)}
_CONFIG_PROTOCOLS: Final = {RTPROT_BOOT, RTPROT_STATIC}


# --------------------------------------------------------------------------
# small typed accessors for Link.info values


def _int(info: Mapping[str, object], key: str) -> int | None:
    value = info.get(key)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return None


def _bool(info: Mapping[str, object], key: str) -> bool | None:
    value = info.get(key)
    if value is None:
        return None
    return bool(value)


def _str(info: Mapping[str, object], key: str) -> str | None:
    value = info.get(key)
    return value if isinstance(value, str) and value else None


def _centi_to_seconds(value: int | None) -> int | None:
    return None if value is None else value // 100


def _mac(mac: str | None) -> str | None:
    return mac.upper() if mac else None


def _put(target: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        target[key] = value


def _name(links: Mapping[int, Link], index: int | None) -> str | None:
    if index is None:
        return None
    link = links.get(index)
    return link.name if link is not None else None


# --------------------------------------------------------------------------
# interfaces


def interface_type(link: Link) -> str:
    """The nmstate interface type of a kernel link."""
    if link.kind is None:
        if link.link_type == ARPHRD_LOOPBACK:
            return "loopback"
        if link.link_type == ARPHRD_ETHER:
            return "ethernet"
        if link.link_type == ARPHRD_INFINIBAND:
            return "infiniband"
        return "unknown"
    if link.kind == "veth":
        # Seen from inside a namespace, a veth whose peer lives elsewhere is
        # just a NIC.
        return "veth" if link.link_netnsid is None else "ethernet"
    return _KIND_TYPES.get(link.kind, "unknown")


def interfaces(
    snapshot: Snapshot,
    names: Iterable[str] | None = None,
    *,
    include_dynamic: bool = False,
    include_link_local: bool = False,
) -> list[dict[str, Any]]:
    """Interfaces in nmstate form, sorted by name.

    ``names`` limits the result to those interfaces.  Addresses are the
    static (permanent) ones unless ``include_dynamic``; IPv6 link-local
    addresses are left out unless ``include_link_local``.
    """
    wanted = None if names is None else set(names)
    links = snapshot.links
    ports: dict[int, list[Link]] = defaultdict(list)
    for link in links.values():
        if link.controller_index is not None:
            ports[link.controller_index].append(link)
    addresses: dict[int, list[Address]] = defaultdict(list)
    for address in snapshot.addresses:
        addresses[address.index].append(address)

    result: list[dict[str, Any]] = []
    for link in sorted(links.values(), key=lambda item: (item.name, item.index)):
        if wanted is not None and link.name not in wanted:
            continue
        result.append(
            _interface(
                link,
                links,
                sorted(ports.get(link.index, ()), key=lambda item: item.name),
                addresses.get(link.index, []),
                include_dynamic=include_dynamic,
                include_link_local=include_link_local,
            )
        )
    return result


def _interface(
    link: Link,
    links: Mapping[int, Link],
    ports: list[Link],
    addresses: list[Address],
    *,
    include_dynamic: bool,
    include_link_local: bool,
) -> dict[str, Any]:
    type_ = interface_type(link)
    iface: dict[str, Any] = {
        "name": link.name,
        "type": type_,
        "state": "up" if link.up else "down",
        "mtu": link.mtu,
    }
    _put(iface, "mac-address", _mac(link.mac))
    _put(iface, "controller", _name(links, link.controller_index))

    info = link.info_dict()
    if type_ == "veth":
        peer = _name(links, link.link_index)
        if peer is not None:
            iface["veth"] = {"peer": peer}
    elif type_ == "linux-bridge":
        iface["bridge"] = _bridge(info, ports)
    elif type_ == "vxlan":
        iface["vxlan"] = _vxlan(link, info, links)
    elif type_ in ("mac-vlan", "mac-vtap"):
        iface[type_] = _macvlan(link, info, links)
    elif type_ == "vlan":
        iface["vlan"] = _vlan(link, info, links)
    elif type_ == "tun":
        iface["tun"] = _tun(info)
    elif type_ == "bond":
        iface["link-aggregation"] = _bond(info, ports, links)
    elif type_ == "vrf":
        vrf: dict[str, Any] = {"port": [port.name for port in ports]}
        _put(vrf, "route-table-id", _int(info, "vrf_table"))
        iface["vrf"] = vrf

    iface["ipv4"] = _ip(link, addresses, AF_INET, include_dynamic, include_link_local)
    iface["ipv6"] = _ip(link, addresses, AF_INET6, include_dynamic, include_link_local)
    return iface


def _bridge(info: Mapping[str, object], ports: list[Link]) -> dict[str, Any]:
    stp: dict[str, Any] = {}
    _put(stp, "enabled", None if "br_stp_state" not in info else bool(info["br_stp_state"]))
    _put(stp, "forward-delay", _centi_to_seconds(_int(info, "br_forward_delay")))
    _put(stp, "hello-time", _centi_to_seconds(_int(info, "br_hello_time")))
    _put(stp, "max-age", _centi_to_seconds(_int(info, "br_max_age")))
    _put(stp, "priority", _int(info, "br_priority"))

    options: dict[str, Any] = {}
    _put(options, "group-addr", _mac(_str(info, "br_group_addr")))
    _put(options, "group-forward-mask", _int(info, "br_group_fwd_mask"))
    _put(options, "hash-elasticity", _int(info, "br_mcast_hash_elasticity"))
    _put(options, "hash-max", _int(info, "br_mcast_hash_max"))
    _put(options, "mac-ageing-time", _centi_to_seconds(_int(info, "br_ageing_time")))
    _put(options, "multicast-last-member-count", _int(info, "br_mcast_last_member_cnt"))
    _put(options, "multicast-last-member-interval", _int(info, "br_mcast_last_member_intvl"))
    _put(options, "multicast-membership-interval", _int(info, "br_mcast_membership_intvl"))
    _put(options, "multicast-querier", _bool(info, "br_mcast_querier"))
    _put(options, "multicast-querier-interval", _int(info, "br_mcast_querier_intvl"))
    _put(options, "multicast-query-interval", _int(info, "br_mcast_query_intvl"))
    _put(
        options,
        "multicast-query-response-interval",
        _int(info, "br_mcast_query_response_intvl"),
    )
    _put(options, "multicast-query-use-ifaddr", _bool(info, "br_mcast_query_use_ifaddr"))
    router = _int(info, "br_mcast_router")
    _put(options, "multicast-router", None if router is None else _MCAST_ROUTER.get(router))
    _put(options, "multicast-snooping", _bool(info, "br_mcast_snooping"))
    _put(options, "multicast-startup-query-count", _int(info, "br_mcast_startup_query_cnt"))
    _put(
        options,
        "multicast-startup-query-interval",
        _int(info, "br_mcast_startup_query_intvl"),
    )
    options["stp"] = stp
    protocol = _int(info, "br_vlan_protocol")
    _put(options, "vlan-protocol", None if protocol is None else _VLAN_PROTOCOLS.get(protocol))

    port_list: list[dict[str, Any]] = []
    for port in ports:
        port_info = port.info_dict()
        entry: dict[str, Any] = {"name": port.name}
        _put(entry, "stp-hairpin-mode", _bool(port_info, "brport_mode"))
        _put(entry, "stp-path-cost", _int(port_info, "brport_cost"))
        _put(entry, "stp-priority", _int(port_info, "brport_priority"))
        port_list.append(entry)
    return {"options": options, "port": port_list}


def _base_iface(link: Link, links: Mapping[int, Link]) -> str | None:
    # A parent in another namespace has an index that means nothing here.
    if link.link_netnsid is not None:
        return None
    return _name(links, link.link_index)


def _vxlan(link: Link, info: Mapping[str, object], links: Mapping[int, Link]) -> dict[str, Any]:
    vxlan: dict[str, Any] = {}
    _put(vxlan, "base-iface", _name(links, _int(info, "vxlan_link")) or _base_iface(link, links))
    _put(vxlan, "id", _int(info, "vxlan_id"))
    _put(vxlan, "remote", _str(info, "vxlan_group") or _str(info, "vxlan_group6"))
    _put(vxlan, "local", _str(info, "vxlan_local") or _str(info, "vxlan_local6"))
    _put(vxlan, "destination-port", _int(info, "vxlan_port"))
    _put(vxlan, "learning", _bool(info, "vxlan_learning"))
    return vxlan


def _macvlan(link: Link, info: Mapping[str, object], links: Mapping[int, Link]) -> dict[str, Any]:
    # pyroute2 decodes mode and flags to names; hand-built data may be ints.
    mode = info.get("macvlan_mode", info.get("macvtap_mode"))
    if isinstance(mode, int) and not isinstance(mode, bool):
        mode = _MACVLAN_MODES.get(mode, "unknown")
    flags = info.get("macvlan_flags", info.get("macvtap_flags"))
    if isinstance(flags, str):
        promiscuous = flags != "nopromisc"
    elif isinstance(flags, int):
        promiscuous = not flags & _MACVLAN_FLAG_NOPROMISC
    else:
        promiscuous = True
    result: dict[str, Any] = {}
    _put(result, "base-iface", _base_iface(link, links))
    _put(result, "mode", mode if isinstance(mode, str) else None)
    result["promiscuous"] = promiscuous
    return result


def _vlan(link: Link, info: Mapping[str, object], links: Mapping[int, Link]) -> dict[str, Any]:
    vlan: dict[str, Any] = {}
    _put(vlan, "base-iface", _base_iface(link, links))
    _put(vlan, "id", _int(info, "vlan_id"))
    protocol = _int(info, "vlan_protocol")
    _put(vlan, "protocol", _VLAN_PROTOCOLS.get(protocol if protocol is not None else 0x8100))
    return vlan


def _tun(info: Mapping[str, object]) -> dict[str, Any]:
    tun: dict[str, Any] = {}
    tun_type = _int(info, "tun_type")
    _put(tun, "mode", None if tun_type is None else _TUN_MODES.get(tun_type))
    _put(tun, "owner", _int(info, "tun_owner"))
    _put(tun, "group", _int(info, "tun_group"))
    _put(tun, "pi", _bool(info, "tun_pi"))
    _put(tun, "vnet-hdr", _bool(info, "tun_vnet_hdr"))
    _put(tun, "multi-queue", _bool(info, "tun_multi_queue"))
    _put(tun, "persistent", _bool(info, "tun_persist"))
    return tun


def _bond(
    info: Mapping[str, object], ports: list[Link], links: Mapping[int, Link]
) -> dict[str, Any]:
    mode_value = _int(info, "bond_mode")
    mode = _BOND_MODES.get(mode_value if mode_value is not None else 0, "balance-rr")
    options: dict[str, Any] = {}
    for option, key, kind in _BOND_OPTIONS:
        modes = _BOND_OPTION_MODES.get(option)
        if modes is not None and mode not in modes:
            continue
        value = info.get(key)
        if value is None:
            continue
        if kind == "enum":
            number = _int(info, key)
            options[option] = (
                _BOND_ENUMS[option].get(number, str(number)) if number is not None else value
            )
        elif kind == "bool":
            options[option] = bool(value)
        elif kind == "mac":
            options[option] = _mac(str(value))
        elif kind == "iface":
            primary = _name(links, _int(info, key))
            if primary is not None:
                options[option] = primary
        elif kind == "list":
            targets = value if isinstance(value, tuple) else (value,)
            if targets:
                options[option] = ",".join(str(target) for target in targets)
        else:
            options[option] = _int(info, key)
    return {"mode": mode, "options": options, "port": [port.name for port in ports]}


@functools.lru_cache(maxsize=65536)
def _address_facts(text: str) -> tuple[str, bool, int, int]:
    """Canonical spelling, link-local or not, version and value of an address
    (kept: a Show of a thousand interfaces parses the same addresses each time)."""
    ip = ipaddress.ip_address(text)
    return str(ip), ip.version == 6 and ip.is_link_local, ip.version, int(ip)


def _ip_sort_key(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    _, _, version, value = _address_facts(entry["ip"])
    return (version, value, int(entry["prefix-length"]))


def _ip(
    link: Link,
    addresses: list[Address],
    family: int,
    include_dynamic: bool,
    include_link_local: bool,
) -> dict[str, Any]:
    mine = [address for address in addresses if address.family == family]
    # No address means off.  disable_ipv6 is not consulted: the kernel drops
    # every IPv6 address when it is set, and its changes come without a link
    # event, so a cached copy of it can be stale while the addresses are not.
    if not mine:
        return {"enabled": False}
    listed: list[dict[str, Any]] = []
    for address in mine:
        if address.dynamic and not include_dynamic:
            continue
        ip, link_local, _, _ = _address_facts(address.address)
        if family == AF_INET6 and link_local and not include_link_local:
            continue
        entry: dict[str, Any] = {"ip": ip, "prefix-length": address.prefixlen}
        if address.dynamic:
            _put(entry, "valid-life-time", _lifetime(address.valid_lft))
            _put(entry, "preferred-life-time", _lifetime(address.preferred_lft))
        listed.append(entry)
    listed.sort(key=_ip_sort_key)
    return {"enabled": True, "address": listed}


def _lifetime(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    if seconds == 0xFFFFFFFF:
        return "forever"
    return f"{seconds}sec"


# --------------------------------------------------------------------------
# routes


def _network_key(destination: str) -> tuple[int, int, int]:
    """(IP version, network address as a number, prefix length) of ``ADDRESS[/PREFIX]``.

    The same as ``ipaddress.ip_network(destination, strict=False)`` gives, by
    way of ``inet_pton`` (a fifth of the time: Show sorts every route by it).
    """
    address, _, prefix = destination.partition("/")
    family, version, bits = (socket.AF_INET6, 6, 128) if ":" in address else (socket.AF_INET, 4, 32)
    length = int(prefix) if prefix.isascii() and prefix.isdigit() else -1 if prefix else bits
    try:
        packed = socket.inet_pton(family, address)
    except OSError:
        length = -1
    if not 0 <= length <= bits:  # not an address: ipaddress says what is wrong
        network = ipaddress.ip_network(destination, strict=False)
        return (network.version, int(network.network_address), network.prefixlen)
    host_bits = bits - length
    return (version, int.from_bytes(packed, "big") >> host_bits << host_bits, length)


def _route_sort_key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    network = _network_key(entry["destination"])
    return (
        network[0],
        entry.get("table-id", 0),
        network,
        entry["destination"],
        entry.get("metric", 0),
        entry.get("next-hop-interface", ""),
        entry.get("next-hop-address", ""),
        entry.get("route-type", ""),
    )


def _route_entries(route: Route, links: Mapping[int, Link]) -> list[dict[str, Any]]:
    route_type = _ROUTE_TYPES[route.type]
    hops = [(hop.oif, hop.gateway, hop.weight) for hop in route.multipath]
    multipath = bool(hops)
    if not hops:
        hops = [(route.oif, route.gateway, 1)]
    entries = []
    for oif, gateway, weight in hops:
        entry: dict[str, Any] = {"destination": route.destination}
        _put(entry, "next-hop-interface", _name(links, oif))
        _put(entry, "next-hop-address", gateway)
        entry["metric"] = route.metric
        entry["table-id"] = route.table
        if route_type is not None:
            entry["route-type"] = route_type
        if multipath:
            entry["weight"] = weight
        entries.append(entry)
    return entries


# One nmstate route entry of a kernel route: its sort key, the entry for
# ``running`` and, when the route counts as config, a copy for ``config``
# (a copy: YAML would write an entry present in both lists as an alias).
RouteEntry = tuple[tuple[Any, ...], dict[str, Any], dict[str, Any] | None]


def route_entries(route: Route, links: Mapping[int, Link]) -> list[RouteEntry]:
    """A kernel route in nmstate form: one entry per next hop, none for the
    routes Show leaves out (the local table, broadcast, multicast...)."""
    if route.table == RT_TABLE_LOCAL or route.type not in _ROUTE_TYPES:
        return []
    config = route.protocol in _CONFIG_PROTOCOLS
    return [
        (_route_sort_key(entry), entry, dict(entry) if config else None)
        for entry in _route_entries(route, links)
    ]


def routes(
    snapshot: Snapshot,
    names: Iterable[str] | None = None,
    entries: Callable[[Route], list[RouteEntry]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{'running': [...], 'config': [...]}`` in nmstate form.

    running: every unicast (and blackhole/unreachable/prohibit) route outside
    the local table; config: those of them added as static or boot routes.
    With ``names``, only routes whose next-hop interface is one of them.
    A multipath route becomes one entry per next hop, with its ``weight``.
    *entries*: ``route_entries`` for this snapshot's links, or a memo of it
    (``nmstated/reuse.py``).
    """
    links = snapshot.links
    convert = entries if entries is not None else (lambda route: route_entries(route, links))
    wanted = None if names is None else set(names)
    found: list[RouteEntry] = []
    for route in snapshot.routes:
        for item in convert(route):
            if wanted is not None and item[1].get("next-hop-interface") not in wanted:
                continue
            found.append(item)
    # Sorted once: config is a subsequence of running, and the sort is stable.
    found.sort(key=itemgetter(0))
    return {
        "running": [entry for _, entry, _ in found],
        "config": [copy for _, _, copy in found if copy is not None],
    }


# --------------------------------------------------------------------------
# route rules


def _is_default_rule(rule: Rule) -> bool:
    return (
        (rule.priority, rule.table) in _DEFAULT_RULES
        and rule.action == FR_ACT_TO_TBL
        and rule.src is None
        and rule.dst is None
        and rule.fwmark is None
        and rule.iif is None
        and rule.oif is None
    )


def _rule_entry(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {"family": "ipv6" if rule.family == AF_INET6 else "ipv4"}
    if rule.src is not None:
        entry["ip-from"] = f"{rule.src}/{rule.src_len}"
    if rule.dst is not None:
        entry["ip-to"] = f"{rule.dst}/{rule.dst_len}"
    entry["priority"] = rule.priority
    if rule.action == FR_ACT_TO_TBL:
        entry["route-table"] = rule.table
    _put(entry, "fwmark", rule.fwmark)
    _put(entry, "fwmask", rule.fwmask)
    _put(entry, "iif", rule.iif)
    _put(entry, "action", _RULE_ACTIONS.get(rule.action))
    _put(entry, "suppress-prefix-length", rule.suppress_prefixlen)
    return entry


def route_rules(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """``{'config': [...]}``: every rule but the kernel's default ones."""
    rules = [rule for rule in snapshot.rules if not _is_default_rule(rule)]
    rules.sort(key=lambda rule: (rule.priority, rule.family))
    return {"config": [_rule_entry(rule) for rule in rules]}

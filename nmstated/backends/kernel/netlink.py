"""Netlink messages (pyroute2) parsed into small frozen models.

The parsers accept what pyroute2 hands out -- dump replies and multicast
event messages alike (``RTM_NEW*`` and ``RTM_DEL*``) -- and also plain dicts
of the same shape (``{"index": 3, "attrs": [("IFLA_IFNAME", "eth0"), ...]}``),
which is what the unit tests build.

Attributes are looked up by name once per message and decoded only when
read: pyroute2 0.9 decodes NLAs lazily, so unread statistics cost nothing.

Identity of each object, shared with the event monitor:

* a link is its ``Link.index``;
* an address is ``address_key()``: ``(index, family, address, prefixlen)``;
* a route is ``route_key()``: ``(family, table, destination, metric, tos)``;
* a rule has no id in the kernel; ``rule_key()`` is every selector and the
  action, i.e. everything ``ip rule del`` would match on.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

AF_INET: Final = socket.AF_INET
AF_INET6: Final = socket.AF_INET6

IFF_UP: Final = 0x1
IFA_F_PERMANENT: Final = 0x80
INFINITY_LIFE_TIME: Final = 0xFFFFFFFF

ARPHRD_ETHER: Final = 1
ARPHRD_INFINIBAND: Final = 32
ARPHRD_LOOPBACK: Final = 772
ARPHRD_NONE: Final = 65534

RT_TABLE_COMPAT: Final = 252
RT_TABLE_DEFAULT: Final = 253
RT_TABLE_MAIN: Final = 254
RT_TABLE_LOCAL: Final = 255

RTPROT_KERNEL: Final = 2
RTPROT_BOOT: Final = 3
RTPROT_STATIC: Final = 4

RTN_UNICAST: Final = 1
RTN_LOCAL: Final = 2
RTN_BROADCAST: Final = 3
RTN_ANYCAST: Final = 4
RTN_MULTICAST: Final = 5
RTN_BLACKHOLE: Final = 6
RTN_UNREACHABLE: Final = 7
RTN_PROHIBIT: Final = 8

FR_ACT_TO_TBL: Final = 1
FR_ACT_GOTO: Final = 2
FR_ACT_NOP: Final = 3
FR_ACT_BLACKHOLE: Final = 6
FR_ACT_UNREACHABLE: Final = 7
FR_ACT_PROHIBIT: Final = 8

_OPERSTATES: Final = {
    0: "UNKNOWN",
    1: "NOTPRESENT",
    2: "DOWN",
    3: "LOWERLAYERDOWN",
    4: "TESTING",
    5: "DORMANT",
    6: "UP",
}

# Kind-specific attributes that are timers, counters or padding: they change
# on their own, and keeping them would make two reads of an unchanged link
# compare unequal.
_VOLATILE_INFO: Final = frozenset(
    {
        "br_hello_timer",
        "br_tcn_timer",
        "br_topology_change_timer",
        "br_gc_timer",
        "br_fdb_flush",
        "br_pad",
        "brport_message_age_timer",
        "brport_forward_delay_timer",
        "brport_hold_timer",
        "brport_flush",
        "brport_pad",
        "brport_mcast_eht_hosts_cnt",
        "brport_mcast_n_groups",
        "bond_slave_link_failure_count",
    }
)

InfoItems = tuple[tuple[str, object], ...]


# --------------------------------------------------------------------------
# models


@dataclass(frozen=True, slots=True)
class Link:
    """One network interface as the kernel reports it.

    ``info`` holds the kind-specific data (``IFLA_INFO_DATA``) and, for a
    port, the port data (``IFLA_INFO_SLAVE_DATA``) as sorted ``(key, value)``
    pairs.  A key is the NLA name without ``IFLA_``, in lower case:
    ``br_stp_state``, ``brport_cost``, ``vxlan_id``, ``macvlan_mode``,
    ``vlan_id``, ``tun_type``, ``bond_mode``, ``vrf_table`` ...  Nested
    values become tuples, so a ``Link`` is hashable.
    """

    index: int
    name: str
    kind: str | None
    mtu: int
    mac: str | None
    operstate: str
    up: bool
    controller_index: int | None
    link_index: int | None
    link_netnsid: int | None
    info: InfoItems = ()
    port_kind: str | None = None
    link_type: int = ARPHRD_ETHER
    flags: int = 0
    ipv6_disabled: bool | None = None

    def info_get(self, key: str, default: object = None) -> object:
        for name, value in self.info:
            if name == key:
                return value
        return default

    def info_dict(self) -> dict[str, object]:
        return dict(self.info)


@dataclass(frozen=True, slots=True)
class Address:
    index: int
    family: int
    address: str
    prefixlen: int
    scope: int
    dynamic: bool
    flags: int
    peer: str | None = None
    label: str | None = None
    # Remaining lifetimes shrink between two reads; they are not identity.
    valid_lft: int | None = field(default=None, compare=False)
    preferred_lft: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class NextHop:
    gateway: str | None
    oif: int | None
    weight: int = 1
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Route:
    family: int
    table: int
    destination: str
    gateway: str | None
    oif: int | None
    metric: int
    protocol: int
    scope: int
    type: int
    source: str | None
    multipath: tuple[NextHop, ...] = ()
    tos: int = 0
    flags: int = 0
    src: str | None = None

    @property
    def links(self) -> set[int]:
        """Indexes of the links it goes through: its output, or its next hops'."""
        found = {hop.oif for hop in self.multipath if hop.oif is not None}
        if self.oif is not None:
            found.add(self.oif)
        return found


@dataclass(frozen=True, slots=True)
class Rule:
    family: int
    priority: int
    table: int
    src: str | None
    src_len: int
    dst: str | None
    dst_len: int
    fwmark: int | None
    fwmask: int | None
    iif: str | None
    action: int
    suppress_prefixlen: int | None
    oif: str | None = None
    tos: int = 0
    goto: int | None = None
    protocol: int = 0


AddressKey = tuple[int, int, str, int]
RouteKey = tuple[int, int, str, int, int]
RuleKey = tuple[object, ...]


def address_key(address: Address) -> AddressKey:
    return (address.index, address.family, address.address, address.prefixlen)


def route_key(route: Route) -> RouteKey:
    return (route.family, route.table, route.destination, route.metric, route.tos)


def rule_key(rule: Rule) -> RuleKey:
    return (
        rule.family,
        rule.priority,
        rule.table,
        rule.src,
        rule.src_len,
        rule.dst,
        rule.dst_len,
        rule.fwmark,
        rule.fwmask,
        rule.iif,
        rule.oif,
        rule.tos,
        rule.action,
        rule.goto,
        rule.suppress_prefixlen,
    )


# --------------------------------------------------------------------------
# attribute access that works on pyroute2 objects and on plain dicts


# pyroute2 messages are dicts, but their ``get()`` first searches the NLA
# chain for a same-named attribute (decoding as it goes); plain dict access
# reads the header fields directly and is many times faster.
_dict_get = dict.get


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return _dict_get(obj, key)
    if isinstance(obj, Mapping):
        return obj.get(key)
    return None


def _attrs(obj: Any) -> dict[str, Any]:
    """Name -> NLA slot; the value is decoded only when ``slot[1]`` is read."""
    found: dict[str, Any] = {}
    for slot in _get(obj, "attrs") or ():
        name = slot[0]
        if name not in found and name != "UNKNOWN":
            found[name] = slot
    return found


def _value(attrs: Mapping[str, Any], name: str, default: Any = None) -> Any:
    slot = attrs.get(name)
    if slot is None:
        return default
    return slot[1]


def _field(msg: Any, name: str, default: int = 0) -> int:
    value = _get(msg, name)
    return default if value is None else int(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _freeze(value: Any) -> object:
    """Turn a decoded NLA value into something hashable."""
    if isinstance(value, Mapping):
        if _get(value, "attrs"):
            return _freeze_attrs(value, prefix="")
        return tuple(
            sorted(
                (str(key), _freeze(item))
                for key, item in value.items()
                if key not in ("header", "attrs", "__align")
            )
        )
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value


def _info_key(name: str) -> str:
    if name.startswith("IFLA_"):
        name = name[5:]
    return name.lower()


def _freeze_attrs(nla: Any, prefix: str) -> InfoItems:
    items: list[tuple[str, object]] = []
    for name, slot in _attrs(nla).items():
        key = prefix + _info_key(name)
        if key in _VOLATILE_INFO:
            continue
        items.append((key, _freeze(slot[1])))
    items.sort(key=lambda item: item[0])
    return tuple(items)


# --------------------------------------------------------------------------
# links


_IFLA_INET6_CONF: Final = 2
_DEVCONF_DISABLE_IPV6: Final = 26  # index in the IFLA_INET6_CONF s32 array
_NLA_TYPE_MASK: Final = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER


def _find_nla(data: bytes, start: int, end: int, wanted: int) -> tuple[int, int] | None:
    """Payload bounds of the first NLA of type ``wanted`` in ``data[start:end]``."""
    offset = start
    while offset + 4 <= end:
        length, nla_type = struct.unpack_from("HH", data, offset)
        if length < 4:
            return None
        if nla_type & _NLA_TYPE_MASK == wanted:
            return offset + 4, min(offset + length, end)
        offset += (length + 3) & ~3
    return None


def _raw_payload(slot: Any) -> tuple[bytes, int, int] | None:
    """``(data, start, end)`` of a pyroute2 NLA slot's undecoded payload, if any."""
    cell = getattr(slot, "cell", None)
    nla = cell[1] if isinstance(cell, tuple) and len(cell) == 2 else None
    data = getattr(nla, "data", None)
    offset = getattr(nla, "offset", None)
    length = getattr(nla, "length", None)
    if not isinstance(data, bytes) or not isinstance(offset, int) or not isinstance(length, int):
        return None
    if length < 4:
        return None
    return data, offset + 4, min(offset + length, len(data))


def _ipv6_disabled(attrs: Mapping[str, Any]) -> bool | None:
    """The interface's disable_ipv6 sysctl, from IFLA_AF_SPEC.

    pyroute2 decoding IFLA_AF_SPEC builds every IPv4/IPv6 counter and doubles
    the cost of parsing a link, so the raw bytes are walked instead (three
    NLA headers) when pyroute2 left them; plain dicts take the decoded path.
    """
    slot = attrs.get("IFLA_AF_SPEC")
    if slot is None:
        return None
    raw = _raw_payload(slot)
    if raw is not None:
        data, start, end = raw
        inet6 = _find_nla(data, start, end, AF_INET6)
        conf = None if inet6 is None else _find_nla(data, *inet6, _IFLA_INET6_CONF)
        if conf is None:
            return None
        position = conf[0] + 4 * _DEVCONF_DISABLE_IPV6
        if position + 4 > conf[1]:
            return None
        return bool(struct.unpack_from("=i", data, position)[0])
    inet6_spec = _value(_attrs(slot[1]), "AF_INET6")
    conf_value = _value(_attrs(inet6_spec), "IFLA_INET6_CONF")
    disabled = _get(conf_value, "disable_ipv6")
    return None if disabled is None else bool(disabled)


def _operstate(value: Any) -> str:
    if value is None:
        return "UNKNOWN"
    if isinstance(value, int):
        return _OPERSTATES.get(value, "UNKNOWN")
    return str(value).upper()


def link_from_msg(msg: Any) -> Link:
    """Parse an ``ifinfmsg`` (RTM_NEWLINK/RTM_DELLINK, dump or event).

    Event consumers should skip ``family == AF_BRIDGE`` messages: those are
    bridge-port notifications that repeat a port link with fewer attributes.
    """
    attrs = _attrs(msg)
    flags = _field(msg, "flags")
    kind: str | None = None
    port_kind: str | None = None
    info: list[tuple[str, object]] = []
    kind_link: int | None = None

    linkinfo = _value(attrs, "IFLA_LINKINFO")
    if linkinfo is not None:
        li = _attrs(linkinfo)
        kind = _value(li, "IFLA_INFO_KIND")
        port_kind = _value(li, "IFLA_INFO_SLAVE_KIND")
        data = _value(li, "IFLA_INFO_DATA")
        if isinstance(data, Mapping):
            info.extend(_freeze_attrs(data, prefix=""))
        port_data = _value(li, "IFLA_INFO_SLAVE_DATA")
        if isinstance(port_data, Mapping):
            info.extend(_freeze_attrs(port_data, prefix=""))
        if kind == "vxlan":
            kind_link = _opt_int(dict(info).get("vxlan_link"))
    info.sort(key=lambda item: item[0])

    link_index = _opt_int(_value(attrs, "IFLA_LINK"))
    index = _field(msg, "index")
    if link_index == index:
        link_index = None
    if link_index is None and kind_link:
        link_index = kind_link

    return Link(
        index=index,
        name=str(_value(attrs, "IFLA_IFNAME", "")),
        kind=kind,
        mtu=int(_value(attrs, "IFLA_MTU", 0)),
        mac=_value(attrs, "IFLA_ADDRESS"),
        operstate=_operstate(_value(attrs, "IFLA_OPERSTATE")),
        up=bool(flags & IFF_UP),
        controller_index=_opt_int(_value(attrs, "IFLA_MASTER")) or None,
        link_index=link_index,
        link_netnsid=_opt_int(_value(attrs, "IFLA_LINK_NETNSID")),
        info=tuple(info),
        port_kind=port_kind,
        link_type=_field(msg, "ifi_type", ARPHRD_ETHER),
        flags=flags,
        ipv6_disabled=_ipv6_disabled(attrs),
    )


# --------------------------------------------------------------------------
# addresses


def address_from_msg(msg: Any) -> Address:
    """Parse an ``ifaddrmsg`` (RTM_NEWADDR/RTM_DELADDR, dump or event)."""
    attrs = _attrs(msg)
    family = _field(msg, "family")
    # IFA_LOCAL is the address of the interface; IFA_ADDRESS is the peer on
    # point-to-point links and the same address otherwise.  IPv6 only sends
    # IFA_LOCAL for a peer address.
    local = _value(attrs, "IFA_LOCAL")
    addr = _value(attrs, "IFA_ADDRESS")
    peer: str | None = None
    if local is not None:
        if addr is not None and addr != local:
            peer = str(addr)
        addr = local
    flags = _value(attrs, "IFA_FLAGS")
    if flags is None:
        flags = _field(msg, "flags")
    flags = int(flags)
    valid: int | None = None
    preferred: int | None = None
    cacheinfo = _value(attrs, "IFA_CACHEINFO")
    if isinstance(cacheinfo, Mapping):
        valid = _opt_int(_get(cacheinfo, "ifa_valid"))
        preferred = _opt_int(_get(cacheinfo, "ifa_preferred"))
    dynamic = not (flags & IFA_F_PERMANENT) or (valid is not None and valid != INFINITY_LIFE_TIME)
    return Address(
        index=_field(msg, "index"),
        family=family,
        address=str(addr or ""),
        prefixlen=_field(msg, "prefixlen"),
        scope=_field(msg, "scope"),
        dynamic=dynamic,
        flags=flags,
        peer=peer,
        label=_value(attrs, "IFA_LABEL"),
        valid_lft=valid,
        preferred_lft=preferred,
    )


# --------------------------------------------------------------------------
# routes


def _any_address(family: int) -> str:
    return "::" if family == AF_INET6 else "0.0.0.0"


def _gateway(attrs: Mapping[str, Any]) -> str | None:
    gateway = _value(attrs, "RTA_GATEWAY")
    if gateway is not None:
        return str(gateway)
    via = _value(attrs, "RTA_VIA")
    addr = _get(via, "addr")
    return str(addr) if addr else None


def route_from_msg(msg: Any) -> Route:
    """Parse an ``rtmsg`` (RTM_NEWROUTE/RTM_DELROUTE, dump or event)."""
    attrs = _attrs(msg)
    family = _field(msg, "family")
    dst = _value(attrs, "RTA_DST")
    dst_len = _field(msg, "dst_len")
    destination = f"{dst if dst is not None else _any_address(family)}/{dst_len}"
    src = _value(attrs, "RTA_SRC")
    table = _value(attrs, "RTA_TABLE")
    if table is None:
        table = _field(msg, "table")
    multipath: list[NextHop] = []
    for hop in _value(attrs, "RTA_MULTIPATH") or ():
        oif = _get(hop, "oif")
        multipath.append(
            NextHop(
                gateway=_gateway(_attrs(hop)),
                oif=int(oif) if oif else None,
                weight=_field(hop, "hops") + 1,
                flags=_field(hop, "flags"),
            )
        )
    prefsrc = _value(attrs, "RTA_PREFSRC")
    return Route(
        family=family,
        table=int(table),
        destination=destination,
        gateway=_gateway(attrs),
        oif=_opt_int(_value(attrs, "RTA_OIF")),
        metric=int(_value(attrs, "RTA_PRIORITY", 0)),
        protocol=_field(msg, "proto"),
        scope=_field(msg, "scope"),
        type=_field(msg, "type", RTN_UNICAST),
        source=None if prefsrc is None else str(prefsrc),
        multipath=tuple(multipath),
        tos=_field(msg, "tos"),
        flags=_field(msg, "flags"),
        src=None if src is None else f"{src}/{_field(msg, 'src_len')}",
    )


# --------------------------------------------------------------------------
# rules


def rule_from_msg(msg: Any) -> Rule:
    """Parse a ``fibmsg`` (RTM_NEWRULE/RTM_DELRULE, dump or event)."""
    attrs = _attrs(msg)
    table = _value(attrs, "FRA_TABLE")
    if table is None:
        table = _field(msg, "table")
    suppress = _opt_int(_value(attrs, "FRA_SUPPRESS_PREFIXLEN"))
    if suppress is not None and suppress in (INFINITY_LIFE_TIME, -1):
        suppress = None
    src = _value(attrs, "FRA_SRC")
    dst = _value(attrs, "FRA_DST")
    return Rule(
        family=_field(msg, "family"),
        priority=int(_value(attrs, "FRA_PRIORITY", 0)),
        table=int(table),
        src=None if src is None else str(src),
        src_len=_field(msg, "src_len"),
        dst=None if dst is None else str(dst),
        dst_len=_field(msg, "dst_len"),
        fwmark=_opt_int(_value(attrs, "FRA_FWMARK")),
        fwmask=_opt_int(_value(attrs, "FRA_FWMASK")),
        iif=_value(attrs, "FRA_IIFNAME"),
        action=_field(msg, "action", FR_ACT_TO_TBL),
        suppress_prefixlen=suppress,
        oif=_value(attrs, "FRA_OIFNAME"),
        tos=_field(msg, "tos"),
        goto=_opt_int(_value(attrs, "FRA_GOTO")),
        protocol=int(_value(attrs, "FRA_PROTOCOL", 0)),
    )

"""Is the desired state a subset of the current one?  Pure functions.

Both sides are compared after nmstate's normalisation, so harmless
differences never fail verification: MAC case, IPv6 spelling, address and
port order, link-local and dynamic addresses, defaults that were not asked
for (main route table, rule priority, DNS lists not given), and an
``ethernet`` that the kernel sees as a veth.  Each mismatch reads
``path: desired X, current Y``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from nmstated.model import (
    BondConfig,
    BridgeConfig,
    BridgePort,
    Interface,
    InterfaceState,
    InterfaceType,
    IpAddress,
    IpConfig,
    MacVlanConfig,
    NetworkState,
    PortVlan,
    Route,
    RouteRule,
    VlanConfig,
    VrfConfig,
    VxlanConfig,
)

# Types the kernel may report for what the user calls ethernet.
_COMPATIBLE_TYPES = {InterfaceType.ETHERNET: {InterfaceType.ETHERNET, InterfaceType.VETH}}
# nmstate's defaults for what a dynamic IP configuration does not say.
_AUTO_DEFAULTS = {"auto-dns": True, "auto-gateway": True, "auto-routes": True}
# A rule without a priority gets this one (NetworkManager needs one; nmstate's choice).
DEFAULT_RULE_PRIORITY = 30000
# The kernel stores IPv6 metric 0 as 1024.
_IPV6_DEFAULT_METRIC = 1024
_VLAN_PROTOCOL_DEFAULT = "802.1q"

# Records one mismatch: (path, desired, current).
Differ = Callable[[str, object, object], None]
# Bridge timers the kernel counts down by itself: never set, never compared.
_BRIDGE_TIMERS = frozenset({"gc-timer", "hello-timer", "tcn-timer", "topology-change-timer"})
# Interface keys the current state does not show, so verify cannot check them.
_UNSEEN_KEYS = ("description", "lldp", "accept-all-mac-addresses", "ethernet", "profile-name")


def unverifiable(want: Interface) -> list[str]:
    """The keys *want* asks for that verification cannot see (an apply must write them)."""
    keys = [key for key in _UNSEEN_KEYS if key in want.sections]
    if want.ipv6 is not None and want.ipv6.addr_gen_mode is not None:
        keys.append("ipv6.addr-gen-mode")
    return keys


def read_filter(desired: NetworkState) -> list[str] | None:
    """The interface names to read for verifying *desired*; None when it needs everything."""
    if not desired.only_interfaces:
        return None
    return [iface.name for iface in desired.interfaces]


def problems(desired: NetworkState, current: NetworkState) -> list[str]:
    """Every mismatch between *desired* and *current*, one line each."""
    found: list[str] = []
    for want in desired.interfaces:
        found.extend(interface_problems(want, current.interface(want.name)))
    found.extend(route_problems(desired, current))
    found.extend(rule_problems(desired, current))
    found.extend(dns_problems(desired, current))
    found.extend(hostname_problems(desired, current))
    return found


def _fmt(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return "[" + ", ".join(str(i) for i in items) + "]" if items else "none"
    return str(value)


def _collector(found: list[str], where: str) -> Differ:
    def differ(path: str, desired: object, current: object) -> None:
        full = f"{where}.{path}" if path else where
        found.append(f"{full}: desired {_fmt(desired)}, current {_fmt(current)}")

    return differ


def _compare(differ: Differ, path: str, desired: object, current: object) -> None:
    """Only what the request gives is compared."""
    if desired is not None and desired != current:
        differ(path, desired, current)


# -- interfaces ------------------------------------------------------------------------


def type_compatible(wanted: str, found: str | None) -> bool:
    """Whether an interface of type *found* is one of type *wanted* (a veth whose
    peer is elsewhere is the ethernet NetworkManager sees)."""
    return found in _COMPATIBLE_TYPES.get(wanted, {wanted})


def interface_problems(want: Interface, have: Interface | None) -> list[str]:
    where = f"interfaces.{want.name}"
    state = want.effective_state
    if state == InterfaceState.IGNORE:
        return []
    if state == InterfaceState.ABSENT:
        if have is None or have.type == InterfaceType.ETHERNET:
            return []  # a NIC cannot vanish; absent means "no profile" for it
        return [f"{where}: desired absent, but it still exists"]
    if have is None:
        return [f"{where}: desired {state}, but no such interface exists"]
    found: list[str] = []
    differ = _collector(found, where)

    if want.type is not None and not type_compatible(want.type, have.type):
        differ("type", want.type, have.type)
    if have.state != state:
        differ("state", state, have.state)
    if state == InterfaceState.DOWN:
        return found
    _compare(differ, "mtu", want.mtu, have.mtu)
    _compare(differ, "mac-address", want.mac_address, have.mac_address)
    if want.controller is not None and want.controller != (have.controller or ""):
        differ("controller", want.controller or "none", have.controller)
    if want.veth_peer is not None and have.veth_peer is not None:
        _compare(differ, "veth.peer", want.veth_peer, have.veth_peer)
    if want.bridge is not None:
        _bridge_problems(differ, want.bridge, have.bridge or BridgeConfig())
    if want.vxlan is not None:
        _vxlan_problems(differ, want.vxlan, have.vxlan or VxlanConfig())
    if want.mac_vlan is not None:
        _mac_vlan_problems(differ, want.mac_vlan, have.mac_vlan or MacVlanConfig())
    if want.vlan is not None:
        _vlan_problems(differ, want.vlan, have.vlan or VlanConfig())
    if want.bond is not None:
        _bond_problems(differ, want.bond, have.bond or BondConfig())
    if want.vrf is not None:
        _vrf_problems(differ, want.vrf, have.vrf or VrfConfig())
    for family in ("ipv4", "ipv6"):
        wanted_ip: IpConfig | None = getattr(want, family)
        if wanted_ip is not None:
            found.extend(_ip_problems(f"{where}.{family}", wanted_ip, getattr(have, family)))
    return found


def _ip_problems(where: str, want: IpConfig, have: IpConfig | None) -> list[str]:
    have = have or IpConfig(enabled=False, addresses=())
    current = {a for a in have.static_addresses if not a.is_link_local}
    if not want.wants_enabled:
        if current:
            return [f"{where}.enabled: desired false, current addresses {_fmt_addresses(current)}"]
        return []
    found: list[str] = []
    differ = _collector(found, where)
    if have.dhcp is not None:
        # NetworkManager's applied profile says how addresses are obtained.
        _compare(differ, "dhcp", want.dhcp, bool(have.dhcp))
        _compare(differ, "autoconf", want.autoconf, bool(have.autoconf))
        if want.is_dynamic:
            _auto_problems(differ, want, have)
    if have.addr_gen_mode is not None:
        _compare(differ, "addr-gen-mode", want.addr_gen_mode, have.addr_gen_mode)
    if want.is_dynamic or want.addresses is None:
        # Dynamic addresses come and go; only the static ones asked for must be there.
        if not set(want.static_addresses) <= current:
            found.append(
                f"{where}.address: desired {_fmt_addresses(want.static_addresses)} (at least), "
                f"current {_fmt_addresses(current)}"
            )
        return found
    desired = set(want.static_addresses)
    if desired != current and not (want.allow_extra_address and desired <= current):
        found.append(
            f"{where}.address: desired {_fmt_addresses(desired)}, current {_fmt_addresses(current)}"
        )
    return found


def _auto_problems(differ: Differ, want: IpConfig, have: IpConfig) -> None:
    for key, wanted, current in (
        ("auto-dns", want.auto_dns, have.auto_dns),
        ("auto-gateway", want.auto_gateway, have.auto_gateway),
        ("auto-routes", want.auto_routes, have.auto_routes),
    ):
        _compare(differ, key, wanted, _AUTO_DEFAULTS[key] if current is None else current)
    _compare(differ, "auto-route-table-id", want.auto_route_table_id, have.auto_route_table_id or 0)
    _compare(differ, "auto-route-metric", want.auto_route_metric, have.auto_route_metric)


def _fmt_address(address: IpAddress) -> str:
    return f"{address.ip}/{address.prefix_length}"


def _fmt_addresses(addresses: Iterable[IpAddress]) -> str:
    return _fmt({_fmt_address(a) for a in addresses})


def _bridge_problems(differ: Differ, want: BridgeConfig, have: BridgeConfig) -> None:
    if want.options is not None:
        have_options = have.options
        have_values: Mapping[str, Any] = have_options.values if have_options else {}
        for key, value in want.options.values.items():
            if key in _BRIDGE_TIMERS:
                continue
            _compare(differ, f"bridge.options.{key}", value, have_values.get(key))
        stp, have_stp = want.options.stp, have_options.stp if have_options else None
        if stp is not None:
            for key, value in stp.to_dict().items():
                current = have_stp.to_dict().get(key) if have_stp else None
                _compare(differ, f"bridge.options.stp.{key}", value, current)
    if want.ports is None:
        return
    wanted_names = {p.name for p in want.ports}
    have_names = set(have.port_names or ())
    if wanted_names != have_names:
        differ("bridge.port", wanted_names, have_names)
    for port in want.ports:
        current = have.port(port.name)
        if current is not None:
            _bridge_port_problems(differ, port, current)


def _bridge_port_problems(differ: Differ, want: BridgePort, have: BridgePort) -> None:
    where = f"bridge.port.{want.name}"
    _compare(differ, f"{where}.stp-hairpin-mode", want.stp_hairpin_mode, have.stp_hairpin_mode)
    _compare(differ, f"{where}.stp-path-cost", want.stp_path_cost, have.stp_path_cost)
    _compare(differ, f"{where}.stp-priority", want.stp_priority, have.stp_priority)
    if want.vlan is not None:
        _port_vlan_problems(differ, f"{where}.vlan", want.vlan, have.vlan or PortVlan())


def _port_vlan_problems(differ: Differ, where: str, want: PortVlan, have: PortVlan) -> None:
    _compare(differ, f"{where}.mode", want.mode, have.mode)
    _compare(differ, f"{where}.tag", want.tag, have.tag)
    _compare(differ, f"{where}.enable-native", want.enable_native, bool(have.enable_native))
    if want.trunk_tags is not None and want.trunk_ids != have.trunk_ids:
        differ(f"{where}.trunk-tags", _ranges(want.trunk_ids), _ranges(have.trunk_ids))


def _ranges(ids: frozenset[int]) -> list[str]:
    """VLAN ids as compact ranges ('100-200'), for messages."""
    spans: list[list[int]] = []
    for vid in sorted(ids):
        if spans and spans[-1][1] == vid - 1:
            spans[-1][1] = vid
        else:
            spans.append([vid, vid])
    return [str(low) if low == high else f"{low}-{high}" for low, high in spans]


def _vxlan_problems(differ: Differ, want: VxlanConfig, have: VxlanConfig) -> None:
    _compare(differ, "vxlan.base-iface", want.base_iface, have.base_iface)
    _compare(differ, "vxlan.id", want.id, have.id)
    # "" asks for no remote (or local) address at all.
    _compare(differ, "vxlan.remote", want.remote, have.remote or "")
    _compare(differ, "vxlan.local", want.local, have.local or "")
    _compare(differ, "vxlan.destination-port", want.destination_port, have.destination_port)
    _compare(differ, "vxlan.learning", want.learning, have.learning)


def _mac_vlan_problems(differ: Differ, want: MacVlanConfig, have: MacVlanConfig) -> None:
    _compare(differ, "mac-vlan.base-iface", want.base_iface, have.base_iface)
    _compare(differ, "mac-vlan.mode", want.mode, have.mode)
    _compare(differ, "mac-vlan.promiscuous", want.promiscuous, have.promiscuous)


def _vlan_problems(differ: Differ, want: VlanConfig, have: VlanConfig) -> None:
    _compare(differ, "vlan.base-iface", want.base_iface, have.base_iface)
    _compare(differ, "vlan.id", want.id, have.id)
    _compare(differ, "vlan.protocol", want.protocol, have.protocol or _VLAN_PROTOCOL_DEFAULT)


def _bond_problems(differ: Differ, want: BondConfig, have: BondConfig) -> None:
    _compare(differ, "link-aggregation.mode", want.mode, have.mode)
    have_options = {k: _bond_value(v) for k, v in (have.options or {}).items()}
    for key, value in (want.options or {}).items():
        _compare(
            differ, f"link-aggregation.options.{key}", _bond_value(value), have_options.get(key)
        )
    if want.ports is not None and set(want.ports) != set(have.ports or ()):
        differ("link-aggregation.port", set(want.ports), set(have.ports or ()))


def _bond_value(value: object) -> str:
    """Bond options compare as the kernel spells them (booleans as 1/0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).lower()


def _vrf_problems(differ: Differ, want: VrfConfig, have: VrfConfig) -> None:
    _compare(differ, "vrf.route-table-id", want.route_table_id, have.route_table_id)
    if want.ports is not None and set(want.ports) != set(have.ports or ()):
        differ("vrf.port", set(want.ports), set(have.ports or ()))


# -- routes and rules -------------------------------------------------------------------


def _route_metric(route: Route) -> Route:
    if route.family == 6 and route.metric == 0:
        return replace(route, metric=_IPV6_DEFAULT_METRIC)
    return route


def route_problems(desired: NetworkState, current: NetworkState) -> list[str]:
    if desired.routes is None or desired.routes.config is None:
        return []
    have = (current.routes.config if current.routes else None) or ()
    wanted = [_route_metric(r) for r in desired.routes.config]
    present = [r for r in wanted if not r.is_absent]
    gone = {i.name for i in desired.interfaces if i.effective_state == InterfaceState.ABSENT}
    found: list[str] = []
    for index, route in enumerate(wanted):
        where = f"routes.config[{index}]"
        if route.is_absent:
            left = [r for r in have if route.matches(r) and not any(p.matches(r) for p in present)]
            if left:
                found.append(
                    f"{where}: desired absent {route.describe()}, current "
                    + ", ".join(r.describe() for r in left)
                )
        elif not any(route.matches(r) for r in have):
            similar = [r for r in have if r.destination == route.destination]
            found.append(
                f"{where}: desired {route.describe()}, current "
                + (", ".join(r.describe() for r in similar) if similar else "none")
            )
    stale = [r for r in have if r.next_hop_interface in gone]
    for route in stale:
        found.append(
            f"routes.config: desired none via {route.next_hop_interface} (absent), "
            f"current {route.describe()}"
        )
    return found


def rule_with_defaults(rule: RouteRule) -> RouteRule:
    """What a rule becomes once applied: a priority and, without an action, a table."""
    changes: dict[str, Any] = {}
    if rule.priority is None:
        changes["priority"] = DEFAULT_RULE_PRIORITY
    if not rule.route_table and not rule.action:
        changes["route_table"] = rule.table
    if rule.family is None and rule.ip_family is not None:
        changes["family"] = rule.ip_family
    return replace(rule, **changes) if changes else rule


def rule_problems(desired: NetworkState, current: NetworkState) -> list[str]:
    if desired.route_rules is None or desired.route_rules.config is None:
        return []
    have = (current.route_rules.config if current.route_rules else None) or ()
    present = [rule_with_defaults(r) for r in desired.route_rules.config if not r.is_absent]
    found: list[str] = []
    for index, rule in enumerate(desired.route_rules.config):
        where = f"route-rules.config[{index}]"
        if rule.is_absent:
            left = [r for r in have if rule.matches(r) and not any(p.matches(r) for p in present)]
            if left:
                found.append(
                    f"{where}: desired absent {rule.describe()}, current "
                    + ", ".join(r.describe() for r in left)
                )
            continue
        full = rule_with_defaults(rule)
        if not any(full.matches(r) for r in have):
            similar = [r for r in have if r.priority == full.priority]
            found.append(
                f"{where}: desired {full.describe()}, current "
                + (", ".join(r.describe() for r in similar) if similar else "none")
            )
    return found


# -- DNS and hostname -----------------------------------------------------------------------


def dns_problems(desired: NetworkState, current: NetworkState) -> list[str]:
    if desired.dns is None or desired.dns.config is None:
        return []
    want = desired.dns.config
    have = current.dns.config if current.dns is not None else None
    if have is None:
        return ["dns-resolver.config: cannot be verified, the current state has none"]
    found: list[str] = []
    differ = _collector(found, "dns-resolver.config")
    expected = want.over(have) if want.purges else want
    for key in ("server", "search", "options"):
        wanted: tuple[str, ...] | None = getattr(expected, key)
        current_value = getattr(have, key) or ()
        if wanted is not None and tuple(wanted) != tuple(current_value):
            differ(key, list(wanted), list(current_value))
    return found


def hostname_problems(desired: NetworkState, current: NetworkState) -> list[str]:
    if desired.hostname is None:
        return []
    have = current.hostname
    found: list[str] = []
    differ = _collector(found, "hostname")
    _compare(differ, "running", desired.hostname.running, have.running if have else None)
    _compare(differ, "config", desired.hostname.config, have.config if have else None)
    return found

"""Model → NetworkManager settings (``a{sa{sv}}``), one function per NM setting.

Each setting function returns the keys we own in that setting; a value of
``None`` removes the key.  ``build`` lays them over the interface's
existing profile so that what we do not model survives, and ``same``
tells whether two profiles differ once NetworkManager's defaults (which
``GetSettings`` leaves out) are taken into account.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbus_fast import Variant

from nmstated.backends.networkmanager import routes as nm_routes
from nmstated.backends.networkmanager.client import unwrap
from nmstated.backends.networkmanager.features import (
    CONTROLLER_KEYS,
    PORT_TYPE_KEYS,
    NmFeatures,
)
from nmstated.errors import NotImplementedByDaemon, NotSupported
from nmstated.model import (
    BondConfig,
    BridgeConfig,
    BridgeOptions,
    BridgePort,
    Interface,
    InterfaceType,
    IpConfig,
    MacVlanConfig,
    PortVlan,
    Route,
    RouteRule,
    VlanConfig,
    VxlanConfig,
)

Settings = dict[str, dict[str, Variant]]
Updates = dict[str, Variant | None]  # None removes the key

WIRED = "802-3-ethernet"
NM_TYPE = {
    InterfaceType.ETHERNET: WIRED,
    InterfaceType.VETH: "veth",
    InterfaceType.LINUX_BRIDGE: "bridge",
    InterfaceType.VXLAN: "vxlan",
    InterfaceType.MAC_VLAN: "macvlan",
    InterfaceType.BOND: "bond",
    InterfaceType.VLAN: "vlan",
    InterfaceType.DUMMY: "dummy",
    InterfaceType.VRF: "vrf",
    InterfaceType.LOOPBACK: "loopback",
}
# Profile types that a NIC (or a veth whose peer we do not know) can carry.
_ETHERNET_LIKE = {WIRED, "veth"}
# The port type a controller gives its ports.
PORT_KIND = {
    InterfaceType.LINUX_BRIDGE: "bridge",
    InterfaceType.BOND: "bond",
    InterfaceType.VRF: "vrf",
}
# Types whose MTU and MAC live in the 802-3-ethernet setting (vrf has none, loopback its own).
_WIRED_TYPES = {WIRED, "veth", "bridge", "vxlan", "macvlan", "bond", "vlan", "dummy"}
# Keys NetworkManager keeps for compatibility that would contradict ours.
_LEGACY_KEYS = {"address-data": ("addresses",), "route-data": ("routes",)}

_MACVLAN_MODES = {"vepa": 1, "bridge": 2, "private": 3, "passthru": 4, "source": 5}
_VLAN_PROTOCOLS = {"802.1q": "802.1Q", "802.1ad": "802.1ad"}
_ADDR_GEN_MODES = {"eui64": 0, "stable-privacy": 1}
# NetworkManager's "infinity" for ipv4/ipv6.dhcp-timeout and ipv6.ra-timeout
# (G_MAXINT32).  nmstate sets it on every dynamic family and does not wait for
# a lease: a server that answers late still configures the interface, and an
# apply never fails (and rolls back) because no server answered within NM's
# default 45 s.  nmstate's schema has no key for a finite timeout.
DHCP_TIMEOUT_INFINITY = 2**31 - 1
# The methods under which a family's addresses come from the network.
DYNAMIC_METHODS: Mapping[str, tuple[str, ...]] = {"ipv4": ("auto",), "ipv6": ("auto", "dhcp")}


@dataclass(frozen=True, slots=True)
class PortLink:
    """How an interface is attached: to *controller* as a *kind* port, or (controller "") not."""

    controller: str
    kind: str = ""
    bridge_port: BridgePort | None = None

    @property
    def detached(self) -> bool:
        return not self.controller


DETACHED = PortLink("")


# -- connection ----------------------------------------------------------------------------


def profile_type(iface: Interface, existing: Settings | None) -> str:
    """The NetworkManager connection type for *iface* (the existing profile's, if compatible)."""
    current = _value(existing, "connection", "type")
    if iface.type is None:
        if current is None:
            raise NotSupported(f"{iface.name}: its type is unknown and it has no profile")
        return str(current)
    wanted = NM_TYPE.get(iface.type)
    if wanted is None:
        raise NotImplementedByDaemon(
            f"{iface.name}: interfaces of type {iface.type} cannot be applied by this version"
        )
    if wanted in _ETHERNET_LIKE:
        if current in _ETHERNET_LIKE:
            return str(current)
        # A veth profile must name its peer; a NIC that is a veth inside (as in
        # containers) is configured as plain ethernet.
        return "veth" if wanted == "veth" and iface.veth_peer else WIRED
    return wanted


def connection(
    iface: Interface,
    nm_type: str,
    existing: Settings | None,
    features: NmFeatures,
    port: PortLink | None,
) -> Updates:
    out: Updates = {
        "type": Variant("s", nm_type),
        "interface-name": Variant("s", iface.name),
        "autoconnect": Variant("b", True),
    }
    if existing is None:
        profile_name = iface.sections.get("profile-name")
        out["id"] = Variant("s", str(profile_name) if profile_name else iface.name)
        out["uuid"] = Variant("s", str(uuid.uuid4()))
    if port is not None:
        for key in (*CONTROLLER_KEYS, *PORT_TYPE_KEYS):
            out[key] = None
        if not port.detached:
            out[features.controller_key] = Variant("s", port.controller)
            out[features.port_type_key] = Variant("s", port.kind)
    lldp = iface.sections.get("lldp")
    if isinstance(lldp, Mapping) and lldp.get("enabled") is not None:
        out["lldp"] = Variant("i", 1 if lldp["enabled"] else 0)  # 1: receive (enable-rx)
    return out


def user(iface: Interface, existing: Mapping[str, Variant] | None) -> Updates:
    """``description`` as nmstate keeps it: in the profile's user data."""
    description = iface.sections.get("description")
    if description is None:
        return {}
    old = existing.get("data") if existing else None
    data: dict[str, str] = dict(unwrap(old)) if old is not None else {}
    if description:
        data[DESCRIPTION_KEY] = str(description)
    else:
        data.pop(DESCRIPTION_KEY, None)
    return {"data": Variant("a{ss}", data)}


DESCRIPTION_KEY = "nmstate.interface.description"


def wired(iface: Interface, nm_type: str) -> Updates:
    """``802-3-ethernet``: MTU, MAC address, accept-all-mac-addresses and link settings."""
    out: Updates = {}
    if nm_type not in _WIRED_TYPES:
        if iface.mac_address is not None or (iface.mtu is not None and nm_type != "loopback"):
            raise NotSupported(
                f"{iface.name}: NetworkManager cannot set the MTU or MAC address of a {nm_type}"
            )
        return out
    if iface.mtu is not None:
        out["mtu"] = Variant("u", iface.mtu)
    if iface.mac_address is not None:
        out["assigned-mac-address"] = Variant("s", iface.mac_address)
    accept_all = iface.sections.get("accept-all-mac-addresses")
    if accept_all is not None:
        out["accept-all-mac-addresses"] = Variant("i", 1 if accept_all else 0)
    ethernet = iface.sections.get("ethernet")
    if isinstance(ethernet, Mapping):
        if ethernet.get("auto-negotiation") is not None:
            out["auto-negotiate"] = Variant("b", bool(ethernet["auto-negotiation"]))
        if ethernet.get("speed") is not None:
            out["speed"] = Variant("u", int(ethernet["speed"]))
        if ethernet.get("duplex") is not None:
            out["duplex"] = Variant("s", str(ethernet["duplex"]))
    return out


def loopback(iface: Interface) -> Updates:
    return {} if iface.mtu is None else {"mtu": Variant("u", iface.mtu)}


def veth(iface: Interface) -> Updates:
    if iface.veth_peer is None:
        return {}
    return {"peer": Variant("s", iface.veth_peer)}


# -- linux bridge -----------------------------------------------------------------------------

# nmstate option → (NetworkManager key, D-Bus signature); same units on both sides.
_BRIDGE_OPTIONS: Mapping[str, tuple[str, str]] = {
    "mac-ageing-time": ("ageing-time", "u"),
    "group-forward-mask": ("group-forward-mask", "u"),
    "hash-max": ("multicast-hash-max", "u"),
    "multicast-snooping": ("multicast-snooping", "b"),
    "multicast-querier": ("multicast-querier", "b"),
    "multicast-query-use-ifaddr": ("multicast-query-use-ifaddr", "b"),
    "multicast-router": ("multicast-router", "s"),
    "multicast-last-member-count": ("multicast-last-member-count", "u"),
    "multicast-startup-query-count": ("multicast-startup-query-count", "u"),
    "multicast-last-member-interval": ("multicast-last-member-interval", "t"),
    "multicast-membership-interval": ("multicast-membership-interval", "t"),
    "multicast-querier-interval": ("multicast-querier-interval", "t"),
    "multicast-query-interval": ("multicast-query-interval", "t"),
    "multicast-query-response-interval": ("multicast-query-response-interval", "t"),
    "multicast-startup-query-interval": ("multicast-startup-query-interval", "t"),
    "vlan-default-pvid": ("vlan-default-pvid", "u"),
}
# Shown by the kernel but not settable: applying them back (a round trip of
# Show) is harmless; verify still reports a real difference.
BRIDGE_OPTIONS_NOT_SET = frozenset(
    {"hash-elasticity", "gc-timer", "hello-timer", "tcn-timer", "topology-change-timer"}
)
_STP = {
    "enabled": ("stp", "b"),
    "forward-delay": ("forward-delay", "u"),
    "hello-time": ("hello-time", "u"),
    "max-age": ("max-age", "u"),
    "priority": ("priority", "u"),
}


def bridge(iface: Interface) -> Updates:
    config = iface.bridge or BridgeConfig()
    out: Updates = {}
    options = config.options or BridgeOptions()
    for key, value in options.values.items():
        if key in BRIDGE_OPTIONS_NOT_SET:
            continue
        if key == "group-addr":
            out["group-address"] = Variant("ay", bytes(int(b, 16) for b in value.split(":")))
        elif key == "vlan-protocol":
            out["vlan-protocol"] = Variant("s", _VLAN_PROTOCOLS[str(value).lower()])
        elif key in _BRIDGE_OPTIONS:
            nm_key, signature = _BRIDGE_OPTIONS[key]
            out[nm_key] = Variant(signature, value)
        else:
            raise NotSupported(f"{iface.name}: bridge option {key} cannot be set")
    if options.stp is not None:
        for key, value in options.stp.to_dict().items():
            nm_key, signature = _STP[key]
            out[nm_key] = Variant(signature, value)
    if config.ports is not None:
        out["vlan-filtering"] = Variant("b", config.uses_vlan_filtering)
    return out


def bridge_port(port: BridgePort) -> Updates:
    out: Updates = {}
    if port.stp_priority is not None:
        out["priority"] = Variant("u", port.stp_priority)
    if port.stp_path_cost is not None:
        out["path-cost"] = Variant("u", port.stp_path_cost)
    if port.stp_hairpin_mode is not None:
        out["hairpin-mode"] = Variant("b", port.stp_hairpin_mode)
    if port.vlan is not None:
        out["vlans"] = Variant("aa{sv}", port_vlans(port.vlan))
    return out


def port_vlans(vlan: PortVlan) -> list[dict[str, Variant]]:
    """nmstate's access/trunk description as NetworkManager's VLAN ranges."""

    def entry(low: int, high: int, native: bool) -> dict[str, Variant]:
        return {
            "vid-start": Variant("q", low),
            "vid-end": Variant("q", high),
            "pvid": Variant("b", native),
            "untagged": Variant("b", native),
        }

    if vlan.mode == "access":
        return [entry(vlan.tag, vlan.tag, True)] if vlan.tag is not None else []
    out = [entry(t.low, t.high, False) for t in vlan.trunk_tags or ()]
    if vlan.enable_native and vlan.tag is not None:
        out.append(entry(vlan.tag, vlan.tag, True))
    return out


# -- other virtual types -------------------------------------------------------------------------


def vxlan(config: VxlanConfig) -> Updates:
    out: Updates = {}
    if config.base_iface is not None:
        out["parent"] = Variant("s", config.base_iface)
    if config.id is not None:
        out["id"] = Variant("u", config.id)
    if config.remote is not None:
        out["remote"] = Variant("s", config.remote) if config.remote else None
    if config.local is not None:
        out["local"] = Variant("s", config.local) if config.local else None
    if config.destination_port is not None:
        out["destination-port"] = Variant("u", config.destination_port)
    if config.learning is not None:
        out["learning"] = Variant("b", config.learning)
    return out


def macvlan(config: MacVlanConfig) -> Updates:
    out: Updates = {}
    if config.base_iface is not None:
        out["parent"] = Variant("s", config.base_iface)
    if config.mode is not None:
        out["mode"] = Variant("u", _MACVLAN_MODES[config.mode])
    if config.promiscuous is not None:
        out["promiscuous"] = Variant("b", config.promiscuous)
    return out


def vlan(config: VlanConfig) -> Updates:
    out: Updates = {}
    if config.base_iface is not None:
        out["parent"] = Variant("s", config.base_iface)
    if config.id is not None:
        out["id"] = Variant("u", config.id)
    if config.protocol is not None:
        out["protocol"] = Variant("s", _VLAN_PROTOCOLS[config.protocol])
    return out


def bond(config: BondConfig, existing: Mapping[str, Variant] | None) -> Updates:
    """The mode and kernel options in one ``a{ss}``; options not given are kept."""
    if config.mode is None and config.options is None:
        return {}
    old = existing.get("options") if existing else None
    options: dict[str, str] = dict(unwrap(old)) if old is not None else {}
    if config.mode is not None and options.get("mode") != config.mode:
        options = {"mode": config.mode}  # options of another mode do not carry over
    for key, value in (config.options or {}).items():
        options[key] = _bond_option(value)
    return {"options": Variant("a{ss}", options)}


def _bond_option(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def vrf(iface: Interface) -> Updates:
    if iface.vrf is None or iface.vrf.route_table_id is None:
        return {}
    return {"table": Variant("u", iface.vrf.route_table_id)}


# -- IP --------------------------------------------------------------------------------------------


def _address_data(ip: IpConfig) -> Variant:
    return Variant(
        "aa{sv}",
        [
            {"address": Variant("s", a.ip), "prefix": Variant("u", a.prefix_length)}
            for a in ip.static_addresses
        ],
    )


def _auto_options(ip: IpConfig) -> Updates:
    """auto-dns, auto-gateway … in NetworkManager's (inverted) terms, only when asked."""
    out: Updates = {}
    if ip.auto_dns is not None:
        out["ignore-auto-dns"] = Variant("b", not ip.auto_dns)
    if ip.auto_gateway is not None:
        out["never-default"] = Variant("b", not ip.auto_gateway)
    if ip.auto_routes is not None:
        out["ignore-auto-routes"] = Variant("b", not ip.auto_routes)
    if ip.auto_route_table_id is not None:
        out["route-table"] = Variant("u", ip.auto_route_table_id)
    if ip.auto_route_metric is not None:
        out["route-metric"] = Variant("x", ip.auto_route_metric)
    return out


@dataclass(frozen=True, slots=True)
class _IpIntent:
    """What a request means for one family once the profile fills in what it omits."""

    enabled: bool
    dhcp: bool
    autoconf: bool
    has_addresses: bool


def _ip_intent(ip: IpConfig, existing: Mapping[str, Variant] | None) -> _IpIntent:
    method = str(unwrap(existing["method"])) if existing and "method" in existing else "disabled"
    had_addresses = bool(existing and unwrap(existing.get("address-data", Variant("aa{sv}", []))))
    enabled = (
        ip.enabled
        if ip.enabled is not None
        else (method not in ("disabled", "ignore") or ip.wants_enabled)
    )
    dhcp = ip.dhcp if ip.dhcp is not None else method in ("auto", "dhcp")
    autoconf = ip.autoconf if ip.autoconf is not None else method == "auto"
    addresses = bool(ip.addresses) if ip.addresses is not None else had_addresses
    return _IpIntent(enabled, dhcp, autoconf, addresses)


def _timeout(dynamic: bool) -> Variant | None:
    """Our wait for a lease or router advertisement: forever when dynamic, else not set."""
    return Variant("i", DHCP_TIMEOUT_INFINITY) if dynamic else None


def ipv4(ip: IpConfig | None, existing: Mapping[str, Variant] | None = None) -> Updates:
    """``ipv4``; keys the request omits keep the profile's value (nmstate merges them)."""
    if ip is None:
        return {}
    intent = _ip_intent(ip, existing)
    if not intent.enabled:
        method = "disabled"
    elif intent.dhcp:
        method = "auto"
    elif intent.has_addresses:
        method = "manual"
    else:
        method = "disabled"
    out: Updates = {"method": Variant("s", method)}
    if ip.addresses is not None or method == "disabled":
        out["address-data"] = _address_data(ip if method != "disabled" else IpConfig())
    if method == "auto":
        out.update(_auto_options(ip))
    out["dhcp-timeout"] = _timeout(method in DYNAMIC_METHODS["ipv4"])
    return out


def ipv6(ip: IpConfig | None, existing: Mapping[str, Variant] | None = None) -> Updates:
    """``ipv6``; keys the request omits keep the profile's value (nmstate merges them)."""
    if ip is None:
        return {}
    intent = _ip_intent(ip, existing)
    if not intent.enabled:
        method = "disabled"
    elif intent.dhcp and intent.autoconf:
        method = "auto"
    elif intent.dhcp:
        method = "dhcp"
    elif intent.has_addresses:
        method = "manual"
    else:
        method = "link-local"
    out: Updates = {"method": Variant("s", method)}
    if ip.addresses is not None or method == "disabled":
        out["address-data"] = _address_data(ip if method != "disabled" else IpConfig())
    dynamic = method in DYNAMIC_METHODS["ipv6"]
    if dynamic:
        out.update(_auto_options(ip))
    out["dhcp-timeout"] = _timeout(dynamic)
    out["ra-timeout"] = _timeout(dynamic)
    if ip.addr_gen_mode is not None:
        out["addr-gen-mode"] = Variant("i", _ADDR_GEN_MODES[ip.addr_gen_mode])
    return out


def dynamic_families(settings: Settings) -> frozenset[int]:
    """The IP versions whose addresses *settings* (a whole profile) obtain from the network."""
    return frozenset(
        family
        for family in (4, 6)
        if _value(settings, f"ipv{family}", "method") in DYNAMIC_METHODS[f"ipv{family}"]
    )


def route_data(routes: Sequence[Route]) -> Updates:
    return {"route-data": Variant("aa{sv}", [nm_routes.route_to_nm(r) for r in routes])}


def routing_rules(rules: Sequence[RouteRule]) -> Updates:
    return {"routing-rules": Variant("aa{sv}", [nm_routes.rule_to_nm(r) for r in rules])}


# -- a whole profile ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileInput:
    """Everything a profile is built from besides the interface itself."""

    features: NmFeatures
    port: PortLink | None = None  # None: leave the attachment as it is
    routes: Mapping[int, tuple[Route, ...]] | None = None  # by IP version; None: keep
    rules: Mapping[int, tuple[RouteRule, ...]] | None = None


def build(iface: Interface, existing: Settings | None, given: ProfileInput) -> Settings:
    """The settings we want for *iface*, laid over *existing* (its current profile)."""
    nm_type = profile_type(iface, existing)
    is_port = _is_port(existing, given.port)
    ours: dict[str, Updates] = {
        "connection": connection(iface, nm_type, existing, given.features, given.port),
    }
    wired_keys = ("accept-all-mac-addresses", "ethernet")
    if (
        nm_type in _WIRED_TYPES
        or iface.mtu is not None
        or iface.mac_address is not None
        or any(key in iface.sections for key in wired_keys)
    ):
        section = "loopback" if nm_type == "loopback" else WIRED
        ours[section] = loopback(iface) if nm_type == "loopback" else wired(iface, nm_type)
    described = user(iface, (existing or {}).get("user"))
    if described:
        ours["user"] = described
    typed = _type_setting(iface, nm_type, existing)
    if typed is not None:
        ours[typed[0]] = typed[1]
    keep = {"connection", typed[0] if typed else nm_type}
    drop: set[str] = set()
    if given.port is not None and given.port.kind == "bridge" and given.port.bridge_port:
        ours["bridge-port"] = bridge_port(given.port.bridge_port)
    elif given.port is not None and given.port.kind != "bridge":
        drop.add("bridge-port")
    if is_port:
        # A port has no IP configuration of its own; NetworkManager drops it anyway.
        drop.update(("ipv4", "ipv6"))
    else:
        for family, translate in ((4, ipv4), (6, ipv6)):
            section = f"ipv{family}"
            ours[section] = _ip_updates(
                translate(getattr(iface, section), (existing or {}).get(section)),
                family,
                existing,
                given,
            )
    return _lay_over(existing or {}, ours, drop, keep)


def _is_port(existing: Settings | None, port: PortLink | None) -> bool:
    if port is not None:
        return not port.detached
    return any(_value(existing, "connection", key) for key in CONTROLLER_KEYS)


def _type_setting(
    iface: Interface, nm_type: str, existing: Settings | None
) -> tuple[str, Updates] | None:
    if nm_type == "veth":
        return "veth", veth(iface)
    if nm_type == "bridge":
        return "bridge", bridge(iface)
    if nm_type == "vxlan":
        return "vxlan", vxlan(iface.vxlan or VxlanConfig())
    if nm_type == "macvlan":
        return "macvlan", macvlan(iface.mac_vlan or MacVlanConfig())
    if nm_type == "vlan":
        return "vlan", vlan(iface.vlan or VlanConfig())
    if nm_type == "bond":
        return "bond", bond(iface.bond or BondConfig(), (existing or {}).get("bond"))
    if nm_type == "vrf":
        return "vrf", vrf(iface)
    if nm_type == "dummy":
        return "dummy", {}
    return None


def _ip_updates(
    updates: Updates, family: int, existing: Settings | None, given: ProfileInput
) -> Updates:
    section = f"ipv{family}"
    if existing is None or section not in existing:
        # A new profile must say how each family is configured; nmstate's
        # default for a family not mentioned is "off".
        updates = {"method": Variant("s", "disabled"), **updates}
    method = updates.get("method") or _variant(existing, section, "method")
    disabled = method is not None and method.value == "disabled"
    if disabled:
        # Routes and rules go with the IP configuration.
        updates["route-data"] = Variant("aa{sv}", [])
        updates["routing-rules"] = None
    else:
        if given.routes is not None and family in given.routes:
            updates.update(route_data(given.routes[family]))
        if given.rules is not None and family in given.rules:
            updates.update(routing_rules(given.rules[family]))
    return updates


def _lay_over(
    existing: Settings,
    ours: Mapping[str, Updates],
    drop: set[str],
    keep: set[str] | frozenset[str] = frozenset(),
) -> Settings:
    """*ours* over *existing*; settings in *drop* go, empty new ones only if in *keep*."""
    merged: Settings = {name: dict(values) for name, values in existing.items() if name not in drop}
    for name, updates in ours.items():
        if name in drop or (not updates and name not in merged and name not in keep):
            continue
        target = merged.setdefault(name, {})
        for key, value in updates.items():
            for legacy in _LEGACY_KEYS.get(key, ()):
                target.pop(legacy, None)
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    # GetSettings hands back both spellings of addresses and routes; the old
    # one cannot carry a route's table, type or options, and NetworkManager
    # prefers it when both are sent.  Send only the full one.
    for values in merged.values():
        for full, legacy_keys in _LEGACY_KEYS.items():
            if full in values:
                for legacy in legacy_keys:
                    values.pop(legacy, None)
    return merged


def _variant(settings: Settings | None, section: str, key: str) -> Variant | None:
    if settings is None:
        return None
    return settings.get(section, {}).get(key)


def _value(settings: Settings | None, section: str, key: str) -> Any:
    variant = _variant(settings, section, key)
    return None if variant is None else unwrap(variant)


def merge_settings(existing: Settings, ours: Mapping[str, Updates]) -> Settings:
    """*ours* laid over *existing* (for small edits such as autoconnect)."""
    return _lay_over(existing, ours, set(), set(ours))


# -- comparing profiles --------------------------------------------------------------------------

# Values GetSettings leaves out because they are NetworkManager's defaults
# (only those that are not "empty": false, 0, "" and [] are handled generally).
NM_DEFAULTS: Mapping[tuple[str, str], Any] = {
    ("connection", "autoconnect"): True,
    ("connection", "lldp"): -1,
    ("802-3-ethernet", "accept-all-mac-addresses"): -1,
    ("ipv4", "route-metric"): -1,
    ("ipv6", "route-metric"): -1,
    ("ipv6", "addr-gen-mode"): 3,
    ("bridge", "stp"): True,
    ("bridge", "priority"): 32768,
    ("bridge", "forward-delay"): 15,
    ("bridge", "hello-time"): 2,
    ("bridge", "max-age"): 20,
    ("bridge", "ageing-time"): 300,
    ("bridge", "multicast-snooping"): True,
    ("bridge", "multicast-hash-max"): 4096,
    ("bridge", "multicast-last-member-count"): 2,
    ("bridge", "multicast-last-member-interval"): 100,
    ("bridge", "multicast-membership-interval"): 26000,
    ("bridge", "multicast-querier-interval"): 25500,
    ("bridge", "multicast-query-interval"): 12500,
    ("bridge", "multicast-query-response-interval"): 1000,
    ("bridge", "multicast-startup-query-count"): 2,
    ("bridge", "multicast-startup-query-interval"): 3125,
    ("bridge", "vlan-default-pvid"): 1,
    ("bridge-port", "priority"): 32,
    ("bridge-port", "path-cost"): 100,
    ("vxlan", "destination-port"): 8472,
    ("vxlan", "learning"): True,
    ("vxlan", "ageing"): 300,
    ("macvlan", "promiscuous"): True,
    ("vlan", "flags"): 1,
}


def _is_empty(value: Any) -> bool:
    return value in (None, False, 0, "") or (isinstance(value, (list, dict, bytes)) and not value)


# Derived from address-data/route-data by NetworkManager; never compared.
_DERIVED_KEYS = {"ipv4": {"addresses", "routes"}, "ipv6": {"addresses", "routes"}}


def _normal(section: str, values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    derived = _DERIVED_KEYS.get(section, set())
    for key, value in values.items():
        if key in derived:
            continue
        if NM_DEFAULTS.get((section, key), None) == value or (
            (section, key) not in NM_DEFAULTS and _is_empty(value)
        ):
            continue
        out[key] = value
    return out


def same(a: Mapping[str, Mapping[str, Variant]], b: Mapping[str, Mapping[str, Variant]]) -> bool:
    """Do two profiles say the same, NetworkManager's defaults filled in?"""
    left, right = plain(a), plain(b)
    for name in set(left) | set(right):
        if _normal(name, left.get(name, {})) != _normal(name, right.get(name, {})):
            return False
    return True


def plain(settings: Mapping[str, Mapping[str, Variant]]) -> dict[str, dict[str, Any]]:
    """Settings without Variant wrappers, for comparing two profiles."""
    return {
        name: {key: unwrap(value) for key, value in values.items()}
        for name, values in settings.items()
    }

"""Model → NetworkManager settings (``a{sa{sv}}``), one function per NM setting.

Each function returns the keys we own in that setting; ``merge_settings``
lays them over an existing profile so that what we do not model survives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from dbus_fast import Variant

from nmstated.backends.networkmanager.client import unwrap
from nmstated.errors import NotImplementedByDaemon
from nmstated.model import Interface, InterfaceType, IpConfig

Settings = dict[str, dict[str, Variant]]

NM_TYPE = {
    InterfaceType.ETHERNET: "802-3-ethernet",
    InterfaceType.VETH: "veth",
}
# Keys NetworkManager keeps for compatibility that would contradict ours.
_LEGACY_KEYS = {"ipv4": ("addresses",), "ipv6": ("addresses",)}


def connection(iface: Interface, existing: Mapping[str, Variant] | None) -> dict[str, Variant]:
    nm_type = NM_TYPE.get(iface.type or "")
    if nm_type is None:
        raise NotImplementedByDaemon(
            f"{iface.name}: interfaces of type {iface.type} cannot be applied by this version yet"
        )
    out = {
        "type": Variant("s", nm_type),
        "interface-name": Variant("s", iface.name),
        "autoconnect": Variant("b", True),
    }
    if existing is None:
        out["id"] = Variant("s", iface.name)
        out["uuid"] = Variant("s", str(uuid.uuid4()))
    return out


def ethernet(iface: Interface) -> dict[str, Variant]:
    out: dict[str, Variant] = {}
    if iface.mtu is not None:
        out["mtu"] = Variant("u", iface.mtu)
    if iface.mac_address is not None:
        out["assigned-mac-address"] = Variant("s", iface.mac_address)
    return out


def veth(iface: Interface) -> dict[str, Variant]:
    if iface.veth_peer is None:
        return {}
    return {"peer": Variant("s", iface.veth_peer)}


def _address_data(ip: IpConfig) -> Variant:
    return Variant(
        "aa{sv}",
        [
            {"address": Variant("s", a.ip), "prefix": Variant("u", a.prefix_length)}
            for a in ip.static_addresses
        ],
    )


def ipv4(ip: IpConfig | None) -> dict[str, Variant]:
    if ip is None:
        return {}
    if not ip.wants_enabled:
        method = "disabled"
    elif ip.dhcp:
        method = "auto"
    elif ip.static_addresses:
        method = "manual"
    else:
        method = "disabled"
    out = {"method": Variant("s", method)}
    if ip.addresses is not None or method in ("disabled", "auto"):
        out["address-data"] = _address_data(ip)
    return out


def ipv6(ip: IpConfig | None) -> dict[str, Variant]:
    if ip is None:
        return {}
    if not ip.wants_enabled:
        method = "disabled"
    elif ip.dhcp and ip.autoconf:
        method = "auto"
    elif ip.dhcp:
        method = "dhcp"
    elif ip.static_addresses:
        method = "manual"
    else:
        method = "link-local"
    out = {"method": Variant("s", method)}
    if ip.addresses is not None or method != "manual":
        out["address-data"] = _address_data(ip)
    return out


def build(iface: Interface, existing: Settings | None) -> Settings:
    """The settings we want for *iface*, laid over *existing* (its current profile)."""
    ours: Settings = {
        "connection": connection(iface, existing.get("connection") if existing else None),
        "802-3-ethernet": ethernet(iface),
        "ipv4": ipv4(iface.ipv4),
        "ipv6": ipv6(iface.ipv6),
    }
    if iface.type == InterfaceType.VETH:
        ours["veth"] = veth(iface)
    if existing is None:
        # A new profile must say how each family is configured; nmstate's
        # default for a family not mentioned is "off".
        ours["ipv4"] = {"method": Variant("s", "disabled"), **ours["ipv4"]}
        ours["ipv6"] = {"method": Variant("s", "disabled"), **ours["ipv6"]}
    return merge_settings(existing or {}, ours)


def merge_settings(existing: Settings, ours: Settings) -> Settings:
    merged: Settings = {name: dict(values) for name, values in existing.items()}
    for name, values in ours.items():
        if not values and name in merged:
            continue
        target = merged.setdefault(name, {})
        if "address-data" in values:
            for legacy in _LEGACY_KEYS.get(name, ()):
                target.pop(legacy, None)
        target.update(values)
    return {name: values for name, values in merged.items() if values or name in ours}


def plain(settings: Mapping[str, Mapping[str, Variant]]) -> dict[str, dict[str, Any]]:
    """Settings without Variant wrappers, for comparing two profiles."""
    return {
        name: {key: unwrap(value) for key, value in values.items()}
        for name, values in settings.items()
    }

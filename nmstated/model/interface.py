"""Interfaces in the nmstate schema as frozen dataclasses.

A field that is ``None`` was not given: a desired state names only what it
wants to change.  Type sections are modelled field by field (``bridge``,
``vxlan`` …); keys no model knows travel in ``sections`` unchanged, so
``Interface.from_dict(d).to_dict()`` keeps everything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nmstated.model.bridge import BridgeConfig
from nmstated.model.links import BondConfig, MacVlanConfig, VlanConfig, VrfConfig, VxlanConfig
from nmstated.model.values import EMPTY, canonical_mac, put, rest


class InterfaceType:
    ETHERNET = "ethernet"
    VETH = "veth"
    LINUX_BRIDGE = "linux-bridge"
    VXLAN = "vxlan"
    MAC_VLAN = "mac-vlan"
    BOND = "bond"
    VLAN = "vlan"
    DUMMY = "dummy"
    VRF = "vrf"
    LOOPBACK = "loopback"
    TUN = "tun"
    UNKNOWN = "unknown"


class InterfaceState:
    UP = "up"
    DOWN = "down"
    ABSENT = "absent"
    IGNORE = "ignore"


# The lifetime nmstate shows for an address that never expires.
FOREVER = "forever"


@dataclass(frozen=True, slots=True, order=True)
class IpAddress:
    """An address; its lifetimes (``"86390sec"``) say it was obtained at run time
    (DHCP, router advertisement).  They are query only and do not take part in
    comparisons: a leased address equals the same address asked for."""

    ip: str
    prefix_length: int
    valid_life_time: str | None = field(default=None, compare=False)
    preferred_life_time: str | None = field(default=None, compare=False)

    @classmethod
    def parse(
        cls,
        ip: str,
        prefix_length: int,
        valid_life_time: str | None = None,
        preferred_life_time: str | None = None,
    ) -> IpAddress:
        # One spelling per address, so that '2001:DB8::0:1' equals '2001:db8::1'.
        return cls(
            str(ipaddress.ip_address(ip)), int(prefix_length), valid_life_time, preferred_life_time
        )

    @property
    def is_link_local(self) -> bool:
        return ipaddress.ip_address(self.ip).is_link_local

    @property
    def is_dynamic(self) -> bool:
        """Obtained at run time: it expires (nmstate: a valid lifetime other than forever)."""
        return self.valid_life_time is not None and self.valid_life_time != FOREVER

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ip": self.ip, "prefix-length": self.prefix_length}
        put(out, "valid-life-time", self.valid_life_time)
        put(out, "preferred-life-time", self.preferred_life_time)
        return out


_IP_KEYS = (
    "enabled",
    "dhcp",
    "autoconf",
    "address",
    "auto-dns",
    "auto-gateway",
    "auto-routes",
    "auto-route-table-id",
    "auto-route-metric",
    "addr-gen-mode",
    "allow-extra-address",
)


@dataclass(frozen=True, slots=True)
class IpConfig:
    enabled: bool | None = None
    dhcp: bool | None = None
    autoconf: bool | None = None
    addresses: tuple[IpAddress, ...] | None = None
    auto_dns: bool | None = None
    auto_gateway: bool | None = None
    auto_routes: bool | None = None
    auto_route_table_id: int | None = None
    auto_route_metric: int | None = None
    addr_gen_mode: str | None = None
    allow_extra_address: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IpConfig:
        addresses = None
        if "address" in data:
            addresses = tuple(
                IpAddress.parse(
                    a["ip"],
                    a["prefix-length"],
                    a.get("valid-life-time"),
                    a.get("preferred-life-time"),
                )
                for a in data["address"]
            )
        return cls(
            enabled=data.get("enabled"),
            dhcp=data.get("dhcp"),
            autoconf=data.get("autoconf"),
            addresses=addresses,
            auto_dns=data.get("auto-dns"),
            auto_gateway=data.get("auto-gateway"),
            auto_routes=data.get("auto-routes"),
            auto_route_table_id=data.get("auto-route-table-id"),
            auto_route_metric=data.get("auto-route-metric"),
            addr_gen_mode=data.get("addr-gen-mode"),
            allow_extra_address=data.get("allow-extra-address"),
            extra=rest(data, _IP_KEYS),
        )

    @property
    def static_addresses(self) -> tuple[IpAddress, ...]:
        """The addresses that are configuration: not those obtained at run time."""
        return tuple(a for a in self.addresses or () if not a.is_dynamic)

    @property
    def dynamic_addresses(self) -> tuple[IpAddress, ...]:
        """The addresses listed with a lifetime (as Show lists leased and SLAAC ones)."""
        return tuple(a for a in self.addresses or () if a.is_dynamic)

    @property
    def wants_enabled(self) -> bool:
        """nmstate's reading of ``enabled``: unset means on when anything else is asked."""
        if self.enabled is not None:
            return self.enabled
        return bool(self.dhcp or self.autoconf or self.addresses)

    @property
    def is_dynamic(self) -> bool:
        """Addresses (also) come from DHCP or router advertisements."""
        return bool(self.wants_enabled and (self.dhcp or self.autoconf))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "enabled", self.enabled)
        put(out, "dhcp", self.dhcp)
        put(out, "autoconf", self.autoconf)
        if self.addresses is not None:
            out["address"] = [a.to_dict() for a in self.addresses]
        put(out, "auto-dns", self.auto_dns)
        put(out, "auto-gateway", self.auto_gateway)
        put(out, "auto-routes", self.auto_routes)
        put(out, "auto-route-table-id", self.auto_route_table_id)
        put(out, "auto-route-metric", self.auto_route_metric)
        put(out, "addr-gen-mode", self.addr_gen_mode)
        put(out, "allow-extra-address", self.allow_extra_address)
        out.update(self.extra)
        return out


_KNOWN = (
    "name",
    "type",
    "state",
    "mtu",
    "mac-address",
    "controller",
    "ipv4",
    "ipv6",
    "veth",
    "bridge",
    "vxlan",
    "mac-vlan",
    "link-aggregation",
    "vlan",
    "vrf",
)


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    type: str | None = None
    state: str | None = None
    mtu: int | None = None
    mac_address: str | None = None
    controller: str | None = None  # "" detaches from any controller
    ipv4: IpConfig | None = None
    ipv6: IpConfig | None = None
    veth_peer: str | None = None
    bridge: BridgeConfig | None = None
    vxlan: VxlanConfig | None = None
    mac_vlan: MacVlanConfig | None = None
    bond: BondConfig | None = None
    vlan: VlanConfig | None = None
    vrf: VrfConfig | None = None
    sections: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interface:
        mac = data.get("mac-address")

        def section(key: str) -> Mapping[str, Any] | None:
            value = data.get(key)
            return value if isinstance(value, Mapping) else None

        bridge, vxlan, mac_vlan = section("bridge"), section("vxlan"), section("mac-vlan")
        bond, vlan, vrf = section("link-aggregation"), section("vlan"), section("vrf")
        return cls(
            name=str(data["name"]),
            type=data.get("type"),
            state=data.get("state"),
            mtu=data.get("mtu"),
            mac_address=canonical_mac(mac) if mac is not None else None,
            controller=data.get("controller"),
            ipv4=IpConfig.from_dict(data["ipv4"]) if "ipv4" in data else None,
            ipv6=IpConfig.from_dict(data["ipv6"]) if "ipv6" in data else None,
            veth_peer=(data.get("veth") or {}).get("peer"),
            bridge=BridgeConfig.from_dict(bridge) if bridge is not None else None,
            vxlan=VxlanConfig.from_dict(vxlan) if vxlan is not None else None,
            mac_vlan=MacVlanConfig.from_dict(mac_vlan) if mac_vlan is not None else None,
            bond=BondConfig.from_dict(bond) if bond is not None else None,
            vlan=VlanConfig.from_dict(vlan) if vlan is not None else None,
            vrf=VrfConfig.from_dict(vrf) if vrf is not None else None,
            sections=rest(data, _KNOWN),
        )

    @property
    def effective_state(self) -> str:
        return self.state or InterfaceState.UP

    @property
    def base_iface(self) -> str | None:
        """The parent a vlan, vxlan or mac-vlan is stacked on."""
        for config in (self.vlan, self.vxlan, self.mac_vlan):
            if config is not None and config.base_iface:
                return config.base_iface
        return None

    @property
    def port_names(self) -> tuple[str, ...] | None:
        """The ports a controller lists, or None if the request says nothing about ports."""
        if self.bridge is not None and self.bridge.ports is not None:
            return self.bridge.port_names
        if self.bond is not None and self.bond.ports is not None:
            return self.bond.ports
        if self.vrf is not None and self.vrf.ports is not None:
            return self.vrf.ports
        return None

    def with_type(self, type_: str) -> Interface:
        return replace(self, type=type_)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        put(out, "type", self.type)
        put(out, "state", self.state)
        put(out, "mtu", self.mtu)
        put(out, "mac-address", self.mac_address)
        put(out, "controller", self.controller)
        if self.veth_peer is not None:
            out["veth"] = {"peer": self.veth_peer}
        for key, config in (
            ("bridge", self.bridge),
            ("vxlan", self.vxlan),
            ("mac-vlan", self.mac_vlan),
            ("link-aggregation", self.bond),
            ("vlan", self.vlan),
            ("vrf", self.vrf),
        ):
            if config is not None:
                out[key] = config.to_dict()
        out.update(self.sections)
        if self.ipv4 is not None:
            out["ipv4"] = self.ipv4.to_dict()
        if self.ipv6 is not None:
            out["ipv6"] = self.ipv6.to_dict()
        return out

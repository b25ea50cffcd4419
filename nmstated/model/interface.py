"""Interfaces in the nmstate schema as frozen dataclasses.

A field that is ``None`` was not given: a desired state names only what it
wants to change.  Type sections this model does not know field by field yet
(``bridge``, ``vxlan`` …) travel in ``sections`` unchanged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any


class InterfaceType:
    ETHERNET = "ethernet"
    VETH = "veth"
    LINUX_BRIDGE = "linux-bridge"
    LOOPBACK = "loopback"


class InterfaceState:
    UP = "up"
    DOWN = "down"
    ABSENT = "absent"
    IGNORE = "ignore"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def canonical_mac(mac: str) -> str:
    return mac.upper()


@dataclass(frozen=True, slots=True, order=True)
class IpAddress:
    ip: str
    prefix_length: int

    @classmethod
    def parse(cls, ip: str, prefix_length: int) -> IpAddress:
        # One spelling per address, so that '2001:DB8::0:1' equals '2001:db8::1'.
        return cls(str(ipaddress.ip_address(ip)), int(prefix_length))

    @property
    def is_link_local(self) -> bool:
        return ipaddress.ip_address(self.ip).is_link_local

    def to_dict(self) -> dict[str, Any]:
        return {"ip": self.ip, "prefix-length": self.prefix_length}


@dataclass(frozen=True, slots=True)
class IpConfig:
    enabled: bool | None = None
    dhcp: bool | None = None
    autoconf: bool | None = None
    addresses: tuple[IpAddress, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IpConfig:
        known = {"enabled", "dhcp", "autoconf", "address"}
        addresses = None
        if "address" in data:
            addresses = tuple(IpAddress.parse(a["ip"], a["prefix-length"]) for a in data["address"])
        return cls(
            enabled=data.get("enabled"),
            dhcp=data.get("dhcp"),
            autoconf=data.get("autoconf"),
            addresses=addresses,
            extra=MappingProxyType({k: v for k, v in data.items() if k not in known}),
        )

    @property
    def static_addresses(self) -> tuple[IpAddress, ...]:
        return self.addresses or ()

    @property
    def wants_enabled(self) -> bool:
        """nmstate's reading of ``enabled``: unset means on when anything else is asked."""
        if self.enabled is not None:
            return self.enabled
        return bool(self.dhcp or self.autoconf or self.addresses)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.enabled is not None:
            out["enabled"] = self.enabled
        if self.dhcp is not None:
            out["dhcp"] = self.dhcp
        if self.autoconf is not None:
            out["autoconf"] = self.autoconf
        if self.addresses is not None:
            out["address"] = [a.to_dict() for a in self.addresses]
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    type: str | None = None
    state: str | None = None
    mtu: int | None = None
    mac_address: str | None = None
    ipv4: IpConfig | None = None
    ipv6: IpConfig | None = None
    veth_peer: str | None = None
    sections: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interface:
        known = {"name", "type", "state", "mtu", "mac-address", "ipv4", "ipv6", "veth"}
        mac = data.get("mac-address")
        return cls(
            name=str(data["name"]),
            type=data.get("type"),
            state=data.get("state"),
            mtu=data.get("mtu"),
            mac_address=canonical_mac(mac) if mac is not None else None,
            ipv4=IpConfig.from_dict(data["ipv4"]) if "ipv4" in data else None,
            ipv6=IpConfig.from_dict(data["ipv6"]) if "ipv6" in data else None,
            veth_peer=(data.get("veth") or {}).get("peer"),
            sections=MappingProxyType({k: v for k, v in data.items() if k not in known}),
        )

    @property
    def effective_state(self) -> str:
        return self.state or InterfaceState.UP

    def with_type(self, type_: str) -> Interface:
        return replace(self, type=type_)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.type is not None:
            out["type"] = self.type
        if self.state is not None:
            out["state"] = self.state
        if self.mtu is not None:
            out["mtu"] = self.mtu
        if self.mac_address is not None:
            out["mac-address"] = self.mac_address
        if self.veth_peer is not None:
            out["veth"] = {"peer": self.veth_peer}
        out.update(self.sections)
        if self.ipv4 is not None:
            out["ipv4"] = self.ipv4.to_dict()
        if self.ipv6 is not None:
            out["ipv6"] = self.ipv6.to_dict()
        return out

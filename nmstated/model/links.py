"""Type sections of virtual interfaces: vxlan, mac-vlan, vlan, bond (link-aggregation), vrf."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nmstated.model.values import EMPTY, canonical_ip, frozen, put, rest


@dataclass(frozen=True, slots=True)
class VxlanConfig:
    base_iface: str | None = None
    id: int | None = None
    remote: str | None = None  # "" means none
    local: str | None = None
    destination_port: int | None = None
    learning: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VxlanConfig:
        remote, local = data.get("remote"), data.get("local")
        return cls(
            base_iface=data.get("base-iface"),
            id=data.get("id"),
            remote=canonical_ip(remote) if remote else remote,
            local=canonical_ip(local) if local else local,
            destination_port=data.get("destination-port"),
            learning=data.get("learning"),
            extra=rest(
                data, ("base-iface", "id", "remote", "local", "destination-port", "learning")
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "base-iface", self.base_iface)
        put(out, "id", self.id)
        put(out, "remote", self.remote)
        put(out, "local", self.local)
        put(out, "destination-port", self.destination_port)
        put(out, "learning", self.learning)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class MacVlanConfig:
    base_iface: str | None = None
    mode: str | None = None
    promiscuous: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MacVlanConfig:
        return cls(
            base_iface=data.get("base-iface"),
            mode=data.get("mode"),
            promiscuous=data.get("promiscuous"),
            extra=rest(data, ("base-iface", "mode", "promiscuous")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "base-iface", self.base_iface)
        put(out, "mode", self.mode)
        put(out, "promiscuous", self.promiscuous)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class VlanConfig:
    base_iface: str | None = None
    id: int | None = None
    protocol: str | None = None  # 802.1q | 802.1ad
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VlanConfig:
        protocol = data.get("protocol")
        return cls(
            base_iface=data.get("base-iface"),
            id=data.get("id"),
            protocol=protocol.lower() if isinstance(protocol, str) else None,
            extra=rest(data, ("base-iface", "id", "protocol")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "base-iface", self.base_iface)
        put(out, "id", self.id)
        put(out, "protocol", self.protocol)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class BondConfig:
    """``link-aggregation``: the mode, kernel bond options by their sysfs names, the ports."""

    mode: str | None = None
    options: Mapping[str, Any] | None = None
    ports: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BondConfig:
        options = data.get("options")
        ports = data.get("port")
        return cls(
            mode=data.get("mode"),
            options=frozen(options) if options is not None else None,
            ports=tuple(str(p) for p in ports) if ports is not None else None,
            extra=rest(data, ("mode", "options", "port")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "mode", self.mode)
        if self.options is not None:
            out["options"] = dict(self.options)
        if self.ports is not None:
            out["port"] = list(self.ports)
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class VrfConfig:
    ports: tuple[str, ...] | None = None
    route_table_id: int | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VrfConfig:
        ports = data.get("port")
        return cls(
            ports=tuple(str(p) for p in ports) if ports is not None else None,
            route_table_id=data.get("route-table-id"),
            extra=rest(data, ("port", "route-table-id")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ports is not None:
            out["port"] = list(self.ports)
        put(out, "route-table-id", self.route_table_id)
        out.update(self.extra)
        return out

"""The ``bridge`` section of a linux-bridge interface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nmstated.model.values import EMPTY, canonical_mac, frozen, put, rest

# Flat bridge options (everything in ``bridge.options`` except ``stp``).
_MULTICAST_ROUTER = {0: "disabled", 1: "auto", 2: "enabled"}


def _normalise_option(key: str, value: Any) -> Any:
    if key == "group-addr" and isinstance(value, str):
        return canonical_mac(value)
    if key == "multicast-router" and isinstance(value, int) and not isinstance(value, bool):
        return _MULTICAST_ROUTER.get(value, value)
    return value


@dataclass(frozen=True, slots=True)
class StpOptions:
    """Spanning tree; timers in seconds as nmstate (and NetworkManager) count them."""

    enabled: bool | None = None
    forward_delay: int | None = None
    hello_time: int | None = None
    max_age: int | None = None
    priority: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StpOptions:
        return cls(
            enabled=data.get("enabled"),
            forward_delay=data.get("forward-delay"),
            hello_time=data.get("hello-time"),
            max_age=data.get("max-age"),
            priority=data.get("priority"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "enabled", self.enabled)
        put(out, "forward-delay", self.forward_delay)
        put(out, "hello-time", self.hello_time)
        put(out, "max-age", self.max_age)
        put(out, "priority", self.priority)
        return out


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    stp: StpOptions | None = None
    # Every other option by its nmstate name, values normalised (MAC case, router names).
    values: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BridgeOptions:
        stp = data.get("stp")
        return cls(
            stp=StpOptions.from_dict(stp) if isinstance(stp, Mapping) else None,
            values=frozen({k: _normalise_option(k, v) for k, v in data.items() if k != "stp"}),
        )

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.values)
        if self.stp is not None:
            out["stp"] = self.stp.to_dict()
        return out


@dataclass(frozen=True, slots=True, order=True)
class TrunkTag:
    """One VLAN id (``id``) or an inclusive range (``id-range``)."""

    low: int
    high: int
    is_range: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrunkTag:
        if "id-range" in data:
            span = data["id-range"]
            return cls(int(span["min"]), int(span["max"]), True)
        return cls(int(data["id"]), int(data["id"]))

    @property
    def ids(self) -> range:
        return range(self.low, self.high + 1)

    def to_dict(self) -> dict[str, Any]:
        if self.is_range:
            return {"id-range": {"min": self.low, "max": self.high}}
        return {"id": self.low}


@dataclass(frozen=True, slots=True)
class PortVlan:
    mode: str | None = None  # access | trunk
    tag: int | None = None
    enable_native: bool | None = None
    trunk_tags: tuple[TrunkTag, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PortVlan:
        tags = data.get("trunk-tags")
        return cls(
            mode=data.get("mode"),
            tag=data.get("tag"),
            enable_native=data.get("enable-native"),
            trunk_tags=tuple(TrunkTag.from_dict(t) for t in tags) if tags is not None else None,
        )

    @property
    def trunk_ids(self) -> frozenset[int]:
        return frozenset(i for tag in self.trunk_tags or () for i in tag.ids)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "mode", self.mode)
        put(out, "tag", self.tag)
        put(out, "enable-native", self.enable_native)
        if self.trunk_tags is not None:
            out["trunk-tags"] = [t.to_dict() for t in self.trunk_tags]
        return out


@dataclass(frozen=True, slots=True)
class BridgePort:
    name: str
    stp_hairpin_mode: bool | None = None
    stp_path_cost: int | None = None
    stp_priority: int | None = None
    vlan: PortVlan | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BridgePort:
        vlan = data.get("vlan")
        return cls(
            name=str(data["name"]),
            stp_hairpin_mode=data.get("stp-hairpin-mode"),
            stp_path_cost=data.get("stp-path-cost"),
            stp_priority=data.get("stp-priority"),
            vlan=PortVlan.from_dict(vlan) if isinstance(vlan, Mapping) else None,
            extra=rest(data, ("name", "stp-hairpin-mode", "stp-path-cost", "stp-priority", "vlan")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        put(out, "stp-hairpin-mode", self.stp_hairpin_mode)
        put(out, "stp-path-cost", self.stp_path_cost)
        put(out, "stp-priority", self.stp_priority)
        if self.vlan is not None:
            out["vlan"] = self.vlan.to_dict()
        out.update(self.extra)
        return out


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    options: BridgeOptions | None = None
    ports: tuple[BridgePort, ...] | None = None  # None: the request says nothing about ports

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BridgeConfig:
        options = data.get("options")
        ports = data.get("port")
        return cls(
            options=BridgeOptions.from_dict(options) if isinstance(options, Mapping) else None,
            ports=tuple(BridgePort.from_dict(p) for p in ports) if ports is not None else None,
        )

    def port(self, name: str) -> BridgePort | None:
        for port in self.ports or ():
            if port.name == name:
                return port
        return None

    @property
    def port_names(self) -> tuple[str, ...] | None:
        return None if self.ports is None else tuple(p.name for p in self.ports)

    @property
    def uses_vlan_filtering(self) -> bool:
        return any(p.vlan is not None for p in self.ports or ())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.options is not None:
            out["options"] = self.options.to_dict()
        if self.ports is not None:
            out["port"] = [p.to_dict() for p in self.ports]
        return out

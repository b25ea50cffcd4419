"""A whole network state: what Show returns and what Apply takes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nmstated.model.interface import Interface

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class NetworkState:
    interfaces: tuple[Interface, ...] = ()
    # Top-level sections (routes, dns-resolver, …) not modelled field by field yet.
    sections: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkState:
        return cls(
            interfaces=tuple(Interface.from_dict(i) for i in data.get("interfaces", ())),
            sections=MappingProxyType({k: v for k, v in data.items() if k != "interfaces"}),
        )

    def interface(self, name: str) -> Interface | None:
        for iface in self.interfaces:
            if iface.name == name:
                return iface
        return None

    def __iter__(self) -> Iterator[Interface]:
        return iter(self.interfaces)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.sections)
        out["interfaces"] = [i.to_dict() for i in self.interfaces]
        return out

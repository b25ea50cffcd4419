"""A whole network state: what Show returns and what Apply takes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from nmstated.model.dns import DnsState, HostnameState
from nmstated.model.interface import Interface
from nmstated.model.routes import RouteRules, Routes
from nmstated.model.values import EMPTY, rest

_KNOWN = ("interfaces", "routes", "route-rules", "dns-resolver", "hostname")


@dataclass(frozen=True, slots=True)
class NetworkState:
    interfaces: tuple[Interface, ...] = ()
    routes: Routes | None = None
    route_rules: RouteRules | None = None
    dns: DnsState | None = None
    hostname: HostnameState | None = None
    # Top-level keys no model knows (``description`` …), kept as given.
    sections: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    # Lookup by name, built once: states of a thousand interfaces are asked
    # for interfaces by name a thousand times.
    _by_name: Mapping[str, Interface] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Interface] = {}
        for iface in self.interfaces:
            by_name.setdefault(iface.name, iface)  # the first of a name, as a scan finds
        object.__setattr__(self, "_by_name", by_name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkState:
        def section(key: str) -> Mapping[str, Any] | None:
            value = data.get(key)
            return value if isinstance(value, Mapping) else None

        routes, rules = section("routes"), section("route-rules")
        dns, hostname = section("dns-resolver"), section("hostname")
        return cls(
            interfaces=tuple(Interface.from_dict(i) for i in data.get("interfaces", ())),
            routes=Routes.from_dict(routes) if routes is not None else None,
            route_rules=RouteRules.from_dict(rules) if rules is not None else None,
            dns=DnsState.from_dict(dns) if dns is not None else None,
            hostname=HostnameState.from_dict(hostname) if hostname is not None else None,
            sections=rest(data, _KNOWN),
        )

    def interface(self, name: str) -> Interface | None:
        return self._by_name.get(name)

    @property
    def only_interfaces(self) -> bool:
        """The state says nothing but interfaces (no routes, rules, DNS or hostname)."""
        return (
            self.routes is None
            and self.route_rules is None
            and self.dns is None
            and self.hostname is None
        )

    def __iter__(self) -> Iterator[Interface]:
        return iter(self.interfaces)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.sections)
        if self.hostname is not None:
            out["hostname"] = self.hostname.to_dict()
        if self.dns is not None:
            out["dns-resolver"] = self.dns.to_dict()
        if self.route_rules is not None:
            out["route-rules"] = self.route_rules.to_dict()
        if self.routes is not None:
            out["routes"] = self.routes.to_dict()
        out["interfaces"] = [i.to_dict() for i in self.interfaces]
        return out

"""Routes and route rules as nmstate defines them.

A desired entry with ``state: absent`` is a wildcard: the fields it gives
must match, the fields it omits match anything (``metric`` is never
compared for an absent route).  Values are kept in one spelling (networks
and addresses canonical) so that matching is plain equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nmstated.model.values import (
    EMPTY,
    canonical_ip,
    canonical_network,
    ip_version,
    optional_int,
    put,
    rest,
)

ABSENT = "absent"
MAIN_TABLE = 254
_ROUTE_KEYS = (
    "state",
    "destination",
    "next-hop-interface",
    "next-hop-address",
    "metric",
    "table-id",
    "weight",
    "route-type",
    "source",
)
_RULE_KEYS = (
    "state",
    "family",
    "ip-from",
    "ip-to",
    "priority",
    "route-table",
    "fwmark",
    "fwmask",
    "action",
    "iif",
    "suppress-prefix-length",
)


def _gateway(text: str | None) -> str | None:
    """'' and the unspecified address both mean "no gateway"."""
    if text is None:
        return None
    text = canonical_ip(text)
    return "" if text in ("", "0.0.0.0", "::") else text


@dataclass(frozen=True, slots=True)
class Route:
    destination: str | None = None
    next_hop_interface: str | None = None
    next_hop_address: str | None = None  # "" means "no gateway"
    metric: int | None = None
    table_id: int | None = None
    weight: int | None = None
    route_type: str | None = None
    source: str | None = None
    state: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Route:
        destination = data.get("destination")
        source = data.get("source")
        return cls(
            destination=canonical_network(destination) if destination else None,
            next_hop_interface=data.get("next-hop-interface"),
            next_hop_address=_gateway(data.get("next-hop-address")),
            metric=data.get("metric"),
            table_id=data.get("table-id"),
            weight=data.get("weight"),
            route_type=data.get("route-type"),
            source=canonical_ip(source) if source else None,
            state=data.get("state"),
            extra=rest(data, _ROUTE_KEYS),
        )

    @property
    def is_absent(self) -> bool:
        return self.state == ABSENT

    @property
    def family(self) -> int | None:
        return ip_version(self.destination) or ip_version(self.next_hop_address)

    @property
    def table(self) -> int:
        """The table it lives in: 0 and unset both mean main."""
        return self.table_id or MAIN_TABLE

    def matches(self, other: Route) -> bool:
        """Does *other* (a concrete route) fit this entry, its omitted fields being wildcards?"""
        if self.destination is not None and self.destination != other.destination:
            return False
        if (
            self.next_hop_interface is not None
            and self.next_hop_interface != other.next_hop_interface
        ):
            return False
        if self.next_hop_address is not None and self.next_hop_address != (
            other.next_hop_address or ""
        ):
            return False
        if self.table_id is not None and self.table != other.table:
            return False
        if self.route_type is not None and self.route_type != other.route_type:
            return False
        if self.source is not None and self.source != other.source:
            return False
        if self.weight is not None and self.weight != other.weight:
            return False
        # An absent route is removed whatever its metric.
        return self.is_absent or self.metric is None or self.metric == other.metric

    def identity(self) -> tuple[Any, ...]:
        """What makes two configured routes the same route (metric included)."""
        return (
            self.destination,
            self.next_hop_interface,
            self.next_hop_address or "",
            self.table,
            self.metric,
            self.route_type,
            self.source,
            self.weight,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "state", self.state)
        put(out, "destination", self.destination)
        put(out, "next-hop-interface", self.next_hop_interface)
        put(out, "next-hop-address", self.next_hop_address)
        put(out, "metric", self.metric)
        put(out, "table-id", self.table_id)
        put(out, "weight", self.weight)
        put(out, "route-type", self.route_type)
        put(out, "source", self.source)
        out.update(self.extra)
        return out

    def describe(self) -> str:
        return "{" + ", ".join(f"{k}: {v}" for k, v in self.to_dict().items()) + "}"


@dataclass(frozen=True, slots=True)
class RouteRule:
    family: str | None = None  # ipv4 | ipv6
    ip_from: str | None = None  # "" in an absent rule: only rules without ip-from
    ip_to: str | None = None
    priority: int | None = None
    route_table: int | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    action: str | None = None
    iif: str | None = None
    suppress_prefix_length: int | None = None
    state: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouteRule:
        ip_from, ip_to = data.get("ip-from"), data.get("ip-to")
        return cls(
            family=data.get("family"),
            ip_from=canonical_network(ip_from) if ip_from else ip_from,
            ip_to=canonical_network(ip_to) if ip_to else ip_to,
            priority=data.get("priority"),
            route_table=data.get("route-table"),
            fwmark=optional_int(data.get("fwmark")),
            fwmask=optional_int(data.get("fwmask")),
            action=data.get("action"),
            iif=data.get("iif"),
            suppress_prefix_length=data.get("suppress-prefix-length"),
            state=data.get("state"),
            extra=rest(data, _RULE_KEYS),
        )

    @property
    def is_absent(self) -> bool:
        return self.state == ABSENT

    @property
    def ip_family(self) -> str | None:
        """ipv4 / ipv6 from ``family`` or the addresses; None if nothing says."""
        if self.family:
            return self.family
        version = ip_version(self.ip_from) or ip_version(self.ip_to)
        return None if version is None else f"ipv{version}"

    @property
    def table(self) -> int | None:
        """The table looked up: main unless an action or another table is given."""
        if self.route_table:
            return self.route_table
        return None if self.action else MAIN_TABLE

    def matches(self, other: RouteRule) -> bool:
        """Does *other* (a concrete rule) fit this entry, its omitted fields being wildcards?"""
        for mine, theirs in ((self.ip_from, other.ip_from), (self.ip_to, other.ip_to)):
            if mine is not None and mine != (theirs or ""):
                return False
        family = self.ip_family
        if family is not None and other.ip_family is not None and family != other.ip_family:
            return False
        if self.priority is not None and self.priority != other.priority:
            return False
        if self.route_table and self.route_table != other.table:
            return False
        if self.fwmark is not None and self.fwmark != (other.fwmark or 0):
            return False
        if self.fwmask is not None and self.fwmask != (other.fwmask or 0):
            return False
        if self.iif is not None and self.iif != other.iif:
            return False
        if self.action is not None and self.action != other.action:
            return False
        return (
            self.suppress_prefix_length is None
            or self.suppress_prefix_length == other.suppress_prefix_length
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        put(out, "state", self.state)
        put(out, "family", self.family)
        put(out, "ip-from", self.ip_from)
        put(out, "ip-to", self.ip_to)
        put(out, "priority", self.priority)
        put(out, "route-table", self.route_table)
        put(out, "fwmark", self.fwmark)
        put(out, "fwmask", self.fwmask)
        put(out, "action", self.action)
        put(out, "iif", self.iif)
        put(out, "suppress-prefix-length", self.suppress_prefix_length)
        out.update(self.extra)
        return out

    def describe(self) -> str:
        return "{" + ", ".join(f"{k}: {v}" for k, v in self.to_dict().items()) + "}"


@dataclass(frozen=True, slots=True)
class Routes:
    config: tuple[Route, ...] | None = None
    running: tuple[Route, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Routes:
        config, running = data.get("config"), data.get("running")
        return cls(
            config=tuple(Route.from_dict(r) for r in config) if config is not None else None,
            running=tuple(Route.from_dict(r) for r in running) if running is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.config is not None:
            out["config"] = [r.to_dict() for r in self.config]
        if self.running is not None:
            out["running"] = [r.to_dict() for r in self.running]
        return out


@dataclass(frozen=True, slots=True)
class RouteRules:
    config: tuple[RouteRule, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouteRules:
        config = data.get("config")
        return cls(
            config=tuple(RouteRule.from_dict(r) for r in config) if config is not None else None
        )

    def to_dict(self) -> dict[str, Any]:
        return {} if self.config is None else {"config": [r.to_dict() for r in self.config]}

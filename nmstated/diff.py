"""What an apply would change, in the nmstate schema.  Pure.

The diff lists each desired interface that does not already hold, with the
keys the request gives for it, and each other section (routes, route rules,
DNS, hostname) whose entries do not all hold yet; what already matches is
left out.  ``interfaces`` is always there, the other keys only when they
would change something.

Some effects show only in the backend's plan, not in the request: an
ethernet NIC that goes ``absent`` keeps its device but loses its profile
(and the addresses and routes on it), and route rules held in a profile
that goes (or can no longer hold them) move to another one.  The backend
hands these over as ``Effects``: such a NIC is listed like any interface
that changes, and the moves under ``moved-route-rules`` (the rule, the
interface whose profile held it, the one that holds it next).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nmstated import verify
from nmstated.model import NetworkState, RouteRule


@dataclass(frozen=True, slots=True)
class RuleMove:
    """A route rule in effect that moves to another interface's profile."""

    rule: RouteRule
    source: str  # the interface whose profile held it
    target: str  # the interface whose profile holds it next


@dataclass(frozen=True, slots=True)
class Effects:
    """What carrying out a request does beyond what the request itself says."""

    removed: frozenset[str] = frozenset()  # interfaces whose profiles are deleted
    moved_rules: tuple[RuleMove, ...] = ()


def diff(
    desired: NetworkState, current: NetworkState, effects: Effects = Effects()
) -> dict[str, Any]:
    changed: dict[str, Any] = {
        "interfaces": [
            iface.to_dict()
            for iface in desired.interfaces
            if iface.name in effects.removed
            or verify.interface_problems(iface, current.interface(iface.name))
        ]
    }
    if desired.routes is not None and desired.routes.config is not None:
        pending = [
            route.to_dict()
            for route in desired.routes.config
            if verify.route_problems(_only(routes=(route,)), current)
        ]
        if pending:
            changed["routes"] = {"config": pending}
    if desired.route_rules is not None and desired.route_rules.config is not None:
        rules = [
            rule.to_dict()
            for rule in desired.route_rules.config
            if verify.rule_problems(_only(rules=(rule,)), current)
        ]
        if rules:
            changed["route-rules"] = {"config": rules}
    if effects.moved_rules:
        changed["moved-route-rules"] = [
            {"rule": move.rule.to_dict(), "from": move.source, "to": move.target}
            for move in effects.moved_rules
        ]
    if verify.dns_problems(desired, current) and desired.dns is not None:
        changed["dns-resolver"] = desired.dns.to_dict()
    if verify.hostname_problems(desired, current) and desired.hostname is not None:
        changed["hostname"] = desired.hostname.to_dict()
    return changed


def _only(**entries: Any) -> NetworkState:
    """A state holding just these routes or rules, to check them one by one."""
    return NetworkState.from_dict(
        {
            "routes": {"config": [r.to_dict() for r in entries.get("routes", ())]},
            "route-rules": {"config": [r.to_dict() for r in entries.get("rules", ())]},
        }
    )

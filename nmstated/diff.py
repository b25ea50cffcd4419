"""What an apply would change, in the nmstate schema.  Pure.

The diff lists each desired interface that does not already hold, with the
keys the request gives for it, and each other section (routes, route rules,
DNS, hostname) whose entries do not all hold yet; what already matches is
left out.  ``interfaces`` is always there, the other keys only when they
would change something.
"""

from __future__ import annotations

from typing import Any

from nmstated import verify
from nmstated.model import NetworkState


def diff(desired: NetworkState, current: NetworkState) -> dict[str, Any]:
    changed: dict[str, Any] = {
        "interfaces": [
            iface.to_dict()
            for iface in desired.interfaces
            if verify.interface_problems(iface, current.interface(iface.name))
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

"""Routes and route rules in NetworkManager profiles, the nmstate way.  Pure.

NetworkManager keeps static routes in the profile of their next-hop
interface (``ipv4.route-data`` / ``ipv6.route-data``) and rules in some
profile's ``routing-rules``.  nmstate's semantics on top of that:

* desired routes and rules are *appended* to what the profiles hold;
* an entry with ``state: absent`` is a wildcard removing every match from
  every profile (``metric`` ignored);
* routes NetworkManager did not configure (other protocols, other daemons)
  are not in any profile, so they are never touched;
* a rule belongs to the whole state, not to the profile that happens to
  hold it: rules in effect whose profile goes (absent, now a port) or can no
  longer hold them (down, their IP family disabled) move to another profile
  in the same apply, chosen as for a new rule; with none left to hold one,
  the request is refused, naming the rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import Variant

from nmstated.diff import RuleMove
from nmstated.errors import InvalidArgument
from nmstated.model import Route, RouteRule
from nmstated.model.routes import MAIN_TABLE
from nmstated.verify import DEFAULT_RULE_PRIORITY, rule_with_defaults

FAMILIES = (4, 6)
LOOPBACK = "lo"  # NetworkManager (1.42 and later) has a profile for it
_AF = {4: 2, 6: 10}  # AF_INET, AF_INET6 as NetworkManager stores a rule's family
_FAMILY_OF_AF = {v: k for k, v in _AF.items()}
# FR_ACT_* values of the actions nmstate names.
_RULE_ACTIONS = {"blackhole": 6, "unreachable": 7, "prohibit": 8}
_RULE_ACTION_NAMES = {v: k for k, v in _RULE_ACTIONS.items()}


def family_of(route: Route) -> int:
    return route.family or 4


# -- one entry ----------------------------------------------------------------------------


def route_to_nm(route: Route) -> dict[str, Variant]:
    """One ``route-data`` entry; the table is always explicit, as nmstate writes it."""
    assert route.destination is not None
    network = ipaddress.ip_network(route.destination, strict=False)
    out = {
        "dest": Variant("s", str(network.network_address)),
        "prefix": Variant("u", network.prefixlen),
        "table": Variant("u", route.table),
    }
    if route.next_hop_address:
        out["next-hop"] = Variant("s", route.next_hop_address)
    if route.metric is not None:
        out["metric"] = Variant("u", route.metric)
    if route.route_type:
        out["type"] = Variant("s", route.route_type)
    if route.source:
        out["src"] = Variant("s", route.source)
    if route.weight is not None:
        out["weight"] = Variant("u", route.weight)
    return out


def route_from_nm(entry: Mapping[str, Any], interface: str) -> Route:
    """A ``route-data`` entry (values unwrapped) as a model route via *interface*."""
    route_type = entry.get("type")
    return Route.from_dict(
        {
            "destination": f"{entry['dest']}/{entry['prefix']}",
            "next-hop-interface": interface,
            "next-hop-address": entry.get("next-hop", ""),
            "metric": entry.get("metric"),
            "table-id": entry.get("table") or MAIN_TABLE,
            "route-type": None if route_type in (None, "unicast") else route_type,
            "source": entry.get("src"),
            "weight": entry.get("weight"),
        }
    )


def rule_to_nm(rule: RouteRule) -> dict[str, Variant]:
    """One ``routing-rules`` entry; NetworkManager needs the family and a priority."""
    family = 6 if rule.ip_family == "ipv6" else 4
    out = {
        "family": Variant("i", _AF[family]),
        "priority": Variant(
            "u", rule.priority if rule.priority is not None else DEFAULT_RULE_PRIORITY
        ),
    }
    for key, value in (("from", rule.ip_from), ("to", rule.ip_to)):
        if value:
            network = ipaddress.ip_network(value, strict=False)
            out[key] = Variant("s", str(network.network_address))
            out[f"{key}-len"] = Variant("y", network.prefixlen)
    if rule.action:
        out["action"] = Variant("y", _RULE_ACTIONS[rule.action])
    else:
        out["table"] = Variant("u", rule.route_table or MAIN_TABLE)
    if rule.fwmark is not None:
        out["fwmark"] = Variant("u", rule.fwmark)
        out["fwmask"] = Variant("u", rule.fwmask if rule.fwmask is not None else 0xFFFFFFFF)
    if rule.iif:
        out["iifname"] = Variant("s", rule.iif)
    if rule.suppress_prefix_length is not None:
        out["suppress-prefixlength"] = Variant("i", rule.suppress_prefix_length)
    return out


def rule_from_nm(entry: Mapping[str, Any]) -> RouteRule:
    family = _FAMILY_OF_AF.get(int(entry.get("family", 2)), 4)
    data: dict[str, Any] = {"family": f"ipv{family}", "priority": entry.get("priority")}
    for key, name in (("from", "ip-from"), ("to", "ip-to")):
        if entry.get(key):
            data[name] = f"{entry[key]}/{entry.get(f'{key}-len', 32 if family == 4 else 128)}"
    action = entry.get("action")
    if action in _RULE_ACTION_NAMES:
        data["action"] = _RULE_ACTION_NAMES[action]
    else:
        data["route-table"] = entry.get("table") or MAIN_TABLE
    for key, name in (("fwmark", "fwmark"), ("fwmask", "fwmask"), ("iifname", "iif")):
        if entry.get(key) is not None:
            data[name] = entry[key]
    suppress = entry.get("suppress-prefixlength")
    if suppress is not None and suppress >= 0:
        data["suppress-prefix-length"] = suppress
    return RouteRule.from_dict(data)


# -- what the profiles hold ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileRoutes:
    """The routes, rules and enabled IP families of one interface's profile."""

    name: str
    routes: Mapping[int, tuple[Route, ...]] = field(default_factory=dict)
    rules: Mapping[int, tuple[RouteRule, ...]] = field(default_factory=dict)
    families: frozenset[int] = frozenset()
    active: bool = True  # active on its device: what it holds is in effect

    @classmethod
    def from_plain(
        cls, name: str, plain: Mapping[str, Mapping[str, Any]], active: bool = True
    ) -> ProfileRoutes:
        """From a profile's settings (at least ``ipv4``/``ipv6``) without Variant wrappers."""
        routes: dict[int, tuple[Route, ...]] = {}
        rules: dict[int, tuple[RouteRule, ...]] = {}
        families: set[int] = set()
        for family in FAMILIES:
            ip = plain.get(f"ipv{family}", {})
            routes[family] = tuple(route_from_nm(e, name) for e in ip.get("route-data", ()))
            rules[family] = tuple(rule_from_nm(e) for e in ip.get("routing-rules", ()))
            if ip.get("method", "disabled") not in ("disabled", "ignore"):
                families.add(family)
        return cls(name, routes, rules, frozenset(families), active)

    def tables(self, family: int) -> set[int]:
        return {r.table for r in self.routes.get(family, ())}

    def can_hold(self, family: int) -> bool:
        """Would rules of *family* put here be in effect?"""
        return self.active and family in self.families


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """The new route and rule lists of the profiles that change, by interface and family."""

    routes: dict[str, dict[int, tuple[Route, ...]]] = field(default_factory=dict)
    rules: dict[str, dict[int, tuple[RouteRule, ...]]] = field(default_factory=dict)
    moved: list[RuleMove] = field(default_factory=list)  # rules in effect kept elsewhere

    @property
    def interfaces(self) -> set[str]:
        return set(self.routes) | set(self.rules)


def plan(
    routes: Sequence[Route] | None,
    rules: Sequence[RouteRule] | None,
    profiles: Mapping[str, ProfileRoutes],
    *,
    up: Iterable[str] = (),
    gone: Iterable[str] = (),
    before: Mapping[str, ProfileRoutes] | None = None,
) -> RoutePlan:
    """What each profile's routes and rules become.

    *profiles* are the interfaces that have (or will have) a profile, as they
    will be after the request (families enabled, active or not); *up* the
    interfaces the request brings up (preferred holders for new rules);
    *gone* the ones that go absent (their profiles vanish with their routes).
    *before* are the profiles as they are now: the rules in effect among
    them that the request leaves without a holder move to another profile.
    """
    gone_set = set(gone)
    views = {name: view for name, view in profiles.items() if name not in gone_set}
    result = RoutePlan()
    if routes is not None:
        _plan_routes(routes, views, result)
    displaced = _displaced(before or {}, views, gone_set)
    if rules is not None or displaced:
        _plan_rules(rules or (), views, result, [n for n in up if n in views], displaced)
    return result


@dataclass(frozen=True, slots=True)
class _Displaced:
    """A rule in effect whose profile can no longer hold it, and why."""

    rule: RouteRule
    family: int
    source: str
    why: str


def _displaced(
    before: Mapping[str, ProfileRoutes], after: Mapping[str, ProfileRoutes], gone: set[str]
) -> list[_Displaced]:
    out: list[_Displaced] = []
    for name, was in before.items():
        now = after.get(name)
        for family in FAMILIES:
            held = was.rules.get(family, ()) if was.can_hold(family) else ()
            if not held or (now is not None and now.can_hold(family)):
                continue
            if now is None:
                why = "goes absent" if name in gone else "becomes a port"
            elif not now.active:
                why = "goes down"
            else:
                why = f"has IPv{family} disabled"
            out.extend(_Displaced(rule, family, name, why) for rule in held)
    return out


def _plan_routes(
    routes: Sequence[Route], views: Mapping[str, ProfileRoutes], result: RoutePlan
) -> None:
    lists = {name: {f: list(v.routes.get(f, ())) for f in FAMILIES} for name, v in views.items()}
    present = [r for r in routes if not r.is_absent]
    for route in routes:
        if not route.is_absent:
            continue
        for per_family in lists.values():
            for family, entries in per_family.items():
                per_family[family] = [
                    r for r in entries if not route.matches(r) or any(p.matches(r) for p in present)
                ]
    for index, route in enumerate(routes):
        if route.is_absent:
            continue
        name = route.next_hop_interface
        if not name:
            raise InvalidArgument(
                f"routes.config[{index}]: a route needs next-hop-interface "
                "(NetworkManager keeps routes in an interface's profile)"
            )
        if name not in lists:
            raise InvalidArgument(
                f"routes.config[{index}]: {name} has no NetworkManager profile and is not "
                "brought up by this request; list it under interfaces"
            )
        entries = lists[name][family_of(route)]
        if not any(route.matches(r) for r in entries):
            entries.append(route)
    for name, per_family in lists.items():
        for family, entries in per_family.items():
            if tuple(entries) != tuple(views[name].routes.get(family, ())):
                result.routes.setdefault(name, {})[family] = tuple(entries)


def _plan_rules(
    rules: Sequence[RouteRule],
    views: Mapping[str, ProfileRoutes],
    result: RoutePlan,
    preferred: list[str],
    displaced: Sequence[_Displaced] = (),
) -> None:
    lists = {name: {f: list(v.rules.get(f, ())) for f in FAMILIES} for name, v in views.items()}
    for moving in displaced:
        if moving.source in lists:  # its profile stays, without the rule
            entries = lists[moving.source][moving.family]
            lists[moving.source][moving.family] = [r for r in entries if r != moving.rule]
    present = [rule_with_defaults(r) for r in rules if not r.is_absent]
    removed = [r for r in rules if r.is_absent]
    for rule in removed:
        for per_family in lists.values():
            for family, entries in per_family.items():
                per_family[family] = [
                    r for r in entries if not rule.matches(r) or any(p.matches(r) for p in present)
                ]
    for index, rule in enumerate(rules):
        if rule.is_absent:
            continue
        full = rule_with_defaults(rule)
        family = 6 if full.ip_family == "ipv6" else 4
        if any(full.matches(r) for per in lists.values() for r in per[family]):
            continue
        holder = _rule_holder(full, family, views, result, preferred)
        if holder is None:
            raise InvalidArgument(
                f"route-rules.config[{index}]: no interface with IPv{family} enabled is up to "
                "hold this rule (NetworkManager keeps rules in an interface's profile)"
            )
        lists[holder][family].append(full)
    for moving in displaced:
        rule, family = moving.rule, moving.family
        if any(r.matches(rule) and not any(p.matches(rule) for p in present) for r in removed):
            continue  # the request removes it
        if any(_same_rule(rule, r) for per in lists.values() for r in per[family]):
            continue  # another profile holds it (the request may have just put it there)
        holder = _rule_holder(rule, family, views, result, preferred)
        if holder is None:
            raise InvalidArgument(
                f"route-rules: rule {rule.describe()} would be lost: {moving.source}, whose "
                f"profile holds it, {moving.why} and no other interface with IPv{family} "
                "enabled is up to hold it; bring one up in the same request or remove the "
                "rule (state: absent)"
            )
        lists[holder][family].append(rule)
        result.moved.append(RuleMove(rule, moving.source, holder))
    for name, per_family in lists.items():
        for family, entries in per_family.items():
            if tuple(entries) != tuple(views[name].rules.get(family, ())):
                result.rules.setdefault(name, {})[family] = tuple(entries)


def _same_rule(one: RouteRule, other: RouteRule) -> bool:
    return one.matches(other) and other.matches(one)


def _rule_holder(
    rule: RouteRule,
    family: int,
    views: Mapping[str, ProfileRoutes],
    planned: RoutePlan,
    preferred: list[str],
) -> str | None:
    """The profile a rule goes into, as nmstate picks it, among those whose rules
    of its family are in effect: its iif; else one routing through its table
    (those whose routes the request changes first, then those it brings up,
    then the others by name); else the first the request brings up; else the
    loopback's, which never goes away; else any, by name."""
    able = {name for name, view in views.items() if view.can_hold(family)}
    if rule.iif and rule.iif in able:
        return rule.iif
    changed = sorted(n for n in planned.routes if n in able)
    brought_up = [n for n in preferred if n in able]
    ordered = list(dict.fromkeys([*changed, *brought_up, *sorted(able)]))

    def tables(name: str) -> set[int]:
        routes = planned.routes.get(name, {}).get(family)
        if routes is None:
            return views[name].tables(family)
        return {r.table for r in routes}

    if rule.table is not None:
        for name in ordered:
            if rule.table in tables(name):
                return name
    if brought_up:
        return brought_up[0]
    if LOOPBACK in able:
        return LOOPBACK
    return ordered[0] if ordered else None

"""The live kernel cache: links, addresses, routes and rules kept in memory.

Pure bookkeeping, no I/O: the monitor (``monitor.py``) feeds it the models
parsed from netlink events and dumps, and every mutation returns the
``Change`` list it caused.  ``snapshot()`` hands out the same ``Snapshot`` a
netlink dump would (``backends/kernel/reader.py``), so ``Show`` answers from
memory.

Identity:

* a link is its index, an address ``address_key()``, a rule ``rule_key()``;
* a route is more than ``route_key()``: the kernel keeps routes that share
  destination and metric but differ in next hop (``fe80::/64`` on every
  IPv6 link, IPv4 routes added with ``append``), and a ``local`` and a
  ``broadcast`` route for the same address.  ``route_identity()`` adds type,
  source prefix and next hops; ``route_slot()`` is what a ``replace`` or a
  multipath merge acts on.

Some kernel changes carry no event, or an event this cache cannot place
exactly; the methods that meet one return ``None`` (or say so in
``LinkUpdate``) and the monitor re-reads that part from the kernel:

* IPv4 routes through a link vanish silently when the link goes down or
  loses its last IPv4 address, routes preferring a removed address as
  source vanish too, and routes get or lose the ``linkdown`` flag silently
  when the link's carrier changes;
* a ``replace`` or multipath event whose slot holds several routes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from nmstated.backends.kernel.netlink import (
    AF_INET,
    AF_INET6,
    Address,
    AddressKey,
    Link,
    NextHop,
    Route,
    Rule,
    RuleKey,
    address_key,
    rule_key,
)
from nmstated.backends.kernel.reader import Snapshot

IFF_UP: Final = 0x1
IFF_RUNNING: Final = 0x40
IFF_LOWER_UP: Final = 0x10000
# The carrier as the kernel reports it, and as its link watcher has acted on
# it: routes get or lose the "linkdown" flag when the second one changes.
CARRIER_FLAGS: Final = IFF_RUNNING | IFF_LOWER_UP

Kind = Literal["link", "address", "route", "rule"]
Model = Link | Address | Route | Rule

RouteSlot = tuple[int, int, str, str | None, int, int]
RouteIdentity = tuple[
    int, int, str, str | None, int, int, int, int | None, str | None, tuple[NextHop, ...]
]


@dataclass(frozen=True, slots=True)
class Change:
    """One object that appeared (``old`` None), went (``new`` None) or changed."""

    kind: Kind
    old: Model | None
    new: Model | None


@dataclass(frozen=True, slots=True)
class LinkUpdate:
    """What storing a link did, and whether the kernel's routes must be re-read."""

    changes: tuple[Change, ...]
    routes_stale: bool


def route_slot(route: Route) -> RouteSlot:
    """Destination, source prefix, table, metric and TOS: what ``replace`` matches."""
    return (route.family, route.table, route.destination, route.src, route.metric, route.tos)


def route_identity(route: Route) -> RouteIdentity:
    """Everything that tells two routes the kernel keeps side by side apart."""
    return (
        route.family,
        route.table,
        route.destination,
        route.src,
        route.metric,
        route.tos,
        route.type,
        route.oif,
        route.gateway,
        route.multipath,
    )


def _route_oifs(route: Route) -> set[int]:
    found = {hop.oif for hop in route.multipath if hop.oif is not None}
    if route.oif is not None:
        found.add(route.oif)
    return found


_REMOVED_LINKS_KEPT = 4096


class KernelCache:
    def __init__(self) -> None:
        self._links: dict[int, Link] = {}
        self._index_of: dict[str, int] = {}
        self._addresses: dict[AddressKey, Address] = {}
        self._addresses_of: dict[int, dict[AddressKey, Address]] = {}
        self._routes: dict[RouteIdentity, Route] = {}
        self._slots: dict[RouteSlot, set[RouteIdentity]] = {}
        self._rules: dict[RuleKey, Rule] = {}
        # Indexes of links removed lately: the kernel announces the deletion of
        # some of their routes after the link's own (IPv6 fe80::/64, ff00::/8…);
        # those are already gone from here.  Link indexes are not reused soon.
        self._removed: deque[int] = deque(maxlen=_REMOVED_LINKS_KEPT)

    # -- reading ---------------------------------------------------------------
    @property
    def links(self) -> Mapping[int, Link]:
        """A live read-only view; copy it before awaiting anything."""
        return MappingProxyType(self._links)

    def link(self, index: int) -> Link | None:
        return self._links.get(index)

    def link_named(self, name: str) -> Link | None:
        index = self._index_of.get(name)
        return None if index is None else self._links.get(index)

    def addresses_of(self, index: int) -> tuple[Address, ...]:
        return tuple(self._addresses_of.get(index, {}).values())

    def counts(self) -> dict[str, int]:
        return {
            "links": len(self._links),
            "addresses": len(self._addresses),
            "routes": len(self._routes),
            "rules": len(self._rules),
        }

    def snapshot(self) -> Snapshot:
        """A copy, unaffected by later events."""
        return Snapshot(
            links=MappingProxyType(dict(self._links)),
            addresses=tuple(self._addresses.values()),
            routes=tuple(self._routes.values()),
            rules=tuple(self._rules.values()),
        )

    # -- links -------------------------------------------------------------------
    def put_link(self, link: Link) -> LinkUpdate:
        old = self._links.get(link.index)
        if old == link:
            return LinkUpdate((), False)
        if old is not None and old.name != link.name and self._index_of.get(old.name) == old.index:
            del self._index_of[old.name]
        self._links[link.index] = link
        self._index_of[link.name] = link.index
        # The kernel drops IPv4 routes of a link going down, and flags routes
        # "linkdown" when the carrier goes, without telling anyone.
        stale = old is not None and (
            (old.flags & IFF_UP and not link.flags & IFF_UP)
            or (old.flags ^ link.flags) & CARRIER_FLAGS != 0
        )
        return LinkUpdate((Change("link", old, link),), bool(stale))

    def remove_link(self, index: int) -> LinkUpdate:
        """The link and everything that lived on it: addresses and routes.

        The kernel announces removed addresses but not every route it drops
        with the link; a multipath route with one hop on it may survive with
        that hop dead, which only a re-read can tell.
        """
        old = self._links.pop(index, None)
        if old is None:
            return LinkUpdate((), False)
        self._removed.append(index)
        if self._index_of.get(old.name) == index:
            del self._index_of[old.name]
        changes: list[Change] = []
        for key, address in list(self._addresses_of.pop(index, {}).items()):
            del self._addresses[key]
            changes.append(Change("address", address, None))
        stale = False
        for identity, route in list(self._routes.items()):
            if index in _route_oifs(route):
                if route.multipath:
                    stale = True
                    continue
                self._drop_route(identity)
                changes.append(Change("route", route, None))
        changes.append(Change("link", old, None))
        return LinkUpdate(tuple(changes), stale)

    # -- addresses -------------------------------------------------------------
    def put_address(self, address: Address) -> tuple[Change, ...]:
        key = address_key(address)
        old = self._addresses.get(key)
        self._addresses[key] = address
        self._addresses_of.setdefault(address.index, {})[key] = address
        if old == address:
            return ()
        return (Change("address", old, address),)

    def remove_address(self, address: Address) -> tuple[Change, ...]:
        key = address_key(address)
        old = self._addresses.pop(key, None)
        if old is None:
            return ()
        mine = self._addresses_of.get(address.index)
        if mine is not None:
            mine.pop(key, None)
            if not mine:
                del self._addresses_of[address.index]
        return (Change("address", old, None),)

    def has_ipv6_address(self, index: int) -> bool:
        return any(a.family == AF_INET6 for a in self._addresses_of.get(index, {}).values())

    def routes_lost_with(self, address: Address) -> bool:
        """Whether removing this IPv4 address made the kernel drop routes silently.

        It drops routes preferring the address as source, and every IPv4
        route through the link when its last IPv4 address goes.
        """
        if address.family != AF_INET:
            return False
        last = not any(
            a.family == AF_INET for a in self._addresses_of.get(address.index, {}).values()
        )
        return any(
            route.family == AF_INET
            and (route.source == address.address or (last and address.index in _route_oifs(route)))
            for route in self._routes.values()
        )

    # -- routes ------------------------------------------------------------------
    def put_route(self, route: Route, *, replace: bool) -> tuple[Change, ...] | None:
        """Store an announced route; ``None`` when the event cannot be placed exactly."""
        identity = route_identity(route)
        slot = route_slot(route)
        siblings = self._slots.get(slot, set())
        if route.multipath or any(self._routes[other].multipath for other in siblings):
            # Appending a next hop merges routes into one multipath route,
            # and the event does not say which it replaced.
            return None
        old = self._routes.get(identity)
        if replace and old is None and siblings:
            if len(siblings) > 1:
                return None
            (replaced,) = siblings
            old = self._routes[replaced]
            self._drop_route(replaced)
        self._routes[identity] = route
        self._slots.setdefault(slot, set()).add(identity)
        if old == route:
            return ()
        return (Change("route", old, route),)

    def remove_route(self, route: Route) -> tuple[Change, ...] | None:
        identity = route_identity(route)
        old = self._routes.get(identity)
        if old is None:
            oifs = _route_oifs(route)
            if oifs and oifs <= set(self._removed):
                return ()  # it went with its link, and so did our copy
            # Nothing with this identity: fine if the slot is empty too;
            # otherwise we cannot tell which route went.
            return () if not self._slots.get(route_slot(route)) else None
        if old.multipath or route.multipath:
            return None
        self._drop_route(identity)
        return (Change("route", old, None),)

    def _drop_route(self, identity: RouteIdentity) -> None:
        route = self._routes.pop(identity)
        slot = route_slot(route)
        siblings = self._slots.get(slot)
        if siblings is not None:
            siblings.discard(identity)
            if not siblings:
                del self._slots[slot]

    def replace_routes(self, routes: Iterable[Route]) -> tuple[Change, ...]:
        """Every route, as a fresh dump reports them."""
        fresh = {route_identity(route): route for route in routes}
        changes: list[Change] = []
        for identity, gone in list(self._routes.items()):
            if identity not in fresh:
                self._drop_route(identity)
                changes.append(Change("route", gone, None))
        for identity, route in fresh.items():
            old = self._routes.get(identity)
            if old != route:
                self._routes[identity] = route
                self._slots.setdefault(route_slot(route), set()).add(identity)
                changes.append(Change("route", old, route))
        return tuple(changes)

    # -- rules -----------------------------------------------------------------
    def put_rule(self, rule: Rule) -> tuple[Change, ...]:
        key = rule_key(rule)
        old = self._rules.get(key)
        self._rules[key] = rule
        if old == rule:
            return ()
        return (Change("rule", old, rule),)

    def remove_rule(self, rule: Rule) -> tuple[Change, ...]:
        old = self._rules.pop(rule_key(rule), None)
        return () if old is None else (Change("rule", old, None),)

    # -- everything --------------------------------------------------------------
    def replace(self, snapshot: Snapshot) -> tuple[Change, ...]:
        """Take a full dump as the truth; the changes are what the cache had wrong."""
        changes: list[Change] = []
        fresh_links = dict(snapshot.links)
        for index in [i for i in self._links if i not in fresh_links]:
            old = self._links.pop(index)
            if self._index_of.get(old.name) == index:
                del self._index_of[old.name]
            changes.append(Change("link", old, None))
        for index, link in fresh_links.items():
            old_link = self._links.get(index)
            if old_link != link:
                if old_link is not None and self._index_of.get(old_link.name) == index:
                    del self._index_of[old_link.name]
                self._links[index] = link
                changes.append(Change("link", old_link, link))
        self._index_of = {link.name: index for index, link in self._links.items()}

        fresh_addresses = {address_key(a): a for a in snapshot.addresses}
        for key, old_address in list(self._addresses.items()):
            if key not in fresh_addresses:
                self.remove_address(old_address)
                changes.append(Change("address", old_address, None))
        for address in fresh_addresses.values():
            changes.extend(self.put_address(address))

        changes.extend(self.replace_routes(snapshot.routes))

        fresh_rules = {rule_key(r): r for r in snapshot.rules}
        for rkey, old_rule in list(self._rules.items()):
            if rkey not in fresh_rules:
                del self._rules[rkey]
                changes.append(Change("rule", old_rule, None))
        for rule in fresh_rules.values():
            changes.extend(self.put_rule(rule))
        return tuple(changes)

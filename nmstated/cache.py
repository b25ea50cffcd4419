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
exactly; the methods that meet one say which routes are in doubt
(``StaleRoutes``: those through some links, rarely all of them) and the
monitor re-reads just those from the kernel:

* IPv4 routes through a link vanish silently when the link goes down or
  loses its last IPv4 address, routes preferring a removed address as
  source vanish too, and routes get or lose the ``linkdown`` flag silently
  when the link's carrier changes: the routes through that link (or through
  the links of the routes preferring that source);
* a ``replace`` or multipath event whose slot holds several routes
  (``put_route``/``remove_route`` return ``None``; ``stale_around()`` names
  the links of the routes in that slot).

Routes are indexed by the links they go through and by their preferred
source, so none of this walks the whole table: the cost of an event does
not grow with the number of routes.
"""

from __future__ import annotations

from collections import Counter, deque
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
class StaleRoutes:
    """Routes the kernel may have changed without telling us: those going
    through ``links``, or every route (``everything``)."""

    links: frozenset[int] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.links)


NOTHING_STALE: Final = StaleRoutes()
ALL_STALE: Final = StaleRoutes(everything=True)


@dataclass(frozen=True, slots=True)
class LinkUpdate:
    """What storing a link did, and which of the kernel's routes must be re-read."""

    changes: tuple[Change, ...]
    routes_stale: StaleRoutes = NOTHING_STALE


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


_REMOVED_LINKS_KEPT = 4096


class KernelCache:
    def __init__(self) -> None:
        self._links: dict[int, Link] = {}
        self._index_of: dict[str, int] = {}
        self._addresses: dict[AddressKey, Address] = {}
        self._addresses_of: dict[int, dict[AddressKey, Address]] = {}
        self._routes: dict[RouteIdentity, Route] = {}
        self._slots: dict[RouteSlot, set[RouteIdentity]] = {}
        self._multipath_slots: Counter[RouteSlot] = Counter()  # slot -> its multipath routes
        self._via: dict[int, set[RouteIdentity]] = {}  # link index -> routes through it
        self._preferring: dict[str, set[RouteIdentity]] = {}  # preferred source -> routes
        self._rules: dict[RuleKey, Rule] = {}
        # Indexes of links removed lately: the kernel announces the deletion of
        # some of their routes after the link's own (IPv6 fe80::/64, ff00::/8…);
        # those are already gone from here.  Link indexes are not reused soon.
        self._removed_order: deque[int] = deque()
        self._removed: set[int] = set()

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
            return LinkUpdate(())
        if old is not None and old.name != link.name and self._index_of.get(old.name) == old.index:
            del self._index_of[old.name]
        self._links[link.index] = link
        self._index_of[link.name] = link.index
        self._removed.discard(link.index)  # an index given again (ip link add ... index N)
        # The kernel drops IPv4 routes of a link going down, and flags routes
        # "linkdown" when the carrier goes, without telling anyone.
        stale = old is not None and (
            (old.flags & IFF_UP and not link.flags & IFF_UP)
            or (old.flags ^ link.flags) & CARRIER_FLAGS != 0
        )
        routes = StaleRoutes(frozenset({link.index})) if stale else NOTHING_STALE
        return LinkUpdate((Change("link", old, link),), routes)

    def remove_link(self, index: int) -> LinkUpdate:
        """The link and everything that lived on it: addresses and routes.

        The kernel announces removed addresses but not every route it drops
        with the link; a multipath route with one hop on it may survive with
        that hop dead, which only a re-read of its other hops' links can tell.
        """
        old = self._links.pop(index, None)
        if old is None:
            return LinkUpdate(())
        self._remember_removed(index)
        if self._index_of.get(old.name) == index:
            del self._index_of[old.name]
        changes: list[Change] = []
        for key, address in list(self._addresses_of.pop(index, {}).items()):
            del self._addresses[key]
            changes.append(Change("address", address, None))
        others: set[int] = set()
        for identity in sorted(self._via.get(index, ()), key=repr):
            route = self._routes[identity]
            elsewhere = route.links - {index}
            if route.multipath and elsewhere:
                others |= elsewhere
                continue
            self._drop_route(identity)
            changes.append(Change("route", route, None))
        changes.append(Change("link", old, None))
        return LinkUpdate(tuple(changes), StaleRoutes(frozenset(others)))

    def _remember_removed(self, index: int) -> None:
        self._removed.add(index)
        self._removed_order.append(index)
        if len(self._removed_order) > _REMOVED_LINKS_KEPT:
            self._removed.discard(self._removed_order.popleft())

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

    def routes_lost_with(self, address: Address) -> StaleRoutes:
        """The routes the kernel may have dropped silently with this IPv4 address.

        It drops routes preferring the address as source, and every IPv4
        route through the link when its last IPv4 address goes.
        """
        if address.family != AF_INET:
            return NOTHING_STALE
        links: set[int] = set()
        for identity in self._preferring.get(address.address, ()):
            route = self._routes[identity]
            if route.family != AF_INET:
                continue
            oifs = route.links
            if not oifs:
                return ALL_STALE
            links |= oifs
        last = not any(
            a.family == AF_INET for a in self._addresses_of.get(address.index, {}).values()
        )
        if last and any(
            self._routes[identity].family == AF_INET
            for identity in self._via.get(address.index, ())
        ):
            links.add(address.index)
        return StaleRoutes(frozenset(links))

    # -- routes ------------------------------------------------------------------
    def put_route(self, route: Route, *, replace: bool) -> tuple[Change, ...] | None:
        """Store an announced route; ``None`` when the event cannot be placed exactly."""
        identity = route_identity(route)
        slot = route_slot(route)
        siblings = self._slots.get(slot, set())
        if route.multipath or slot in self._multipath_slots:
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
        self._store_route(identity, route)
        if old == route:
            return ()
        return (Change("route", old, route),)

    def remove_route(self, route: Route) -> tuple[Change, ...] | None:
        identity = route_identity(route)
        old = self._routes.get(identity)
        if old is None:
            oifs = route.links
            if oifs and oifs <= self._removed:
                return ()  # it went with its link, and so did our copy
            # Nothing with this identity: fine if the slot is empty too;
            # otherwise we cannot tell which route went.
            return () if not self._slots.get(route_slot(route)) else None
        if old.multipath or route.multipath:
            return None
        self._drop_route(identity)
        return (Change("route", old, None),)

    def stale_around(self, route: Route) -> StaleRoutes:
        """What to re-read when an event about *route* could not be placed:
        the routes through its links and those of the routes sharing its slot."""
        links = set(route.links)
        if not links:
            return ALL_STALE
        for identity in self._slots.get(route_slot(route), ()):
            oifs = self._routes[identity].links
            if not oifs:
                return ALL_STALE
            links |= oifs
        return StaleRoutes(frozenset(links))

    def routes_via(self, index: int) -> tuple[Route, ...]:
        """The routes going through link *index* (as their output or one next hop)."""
        return tuple(self._routes[identity] for identity in self._via.get(index, ()))

    def _store_route(self, identity: RouteIdentity, route: Route) -> None:
        old = self._routes.get(identity)
        if old is not None and old.source != route.source:
            self._unindex_source(identity, old)
        self._routes[identity] = route
        self._slots.setdefault(route_slot(route), set()).add(identity)
        if old is None and route.multipath:  # multipath or not: part of the identity
            self._multipath_slots[route_slot(route)] += 1
        for oif in route.links:  # part of the identity: cannot change
            self._via.setdefault(oif, set()).add(identity)
        if route.source is not None:
            self._preferring.setdefault(route.source, set()).add(identity)

    def _drop_route(self, identity: RouteIdentity) -> None:
        route = self._routes.pop(identity)
        slot = route_slot(route)
        siblings = self._slots.get(slot)
        if siblings is not None:
            siblings.discard(identity)
            if not siblings:
                del self._slots[slot]
        if route.multipath:
            self._multipath_slots[slot] -= 1
            if self._multipath_slots[slot] <= 0:
                del self._multipath_slots[slot]
        for oif in route.links:
            through = self._via.get(oif)
            if through is not None:
                through.discard(identity)
                if not through:
                    del self._via[oif]
        self._unindex_source(identity, route)

    def _unindex_source(self, identity: RouteIdentity, route: Route) -> None:
        if route.source is None:
            return
        preferring = self._preferring.get(route.source)
        if preferring is not None:
            preferring.discard(identity)
            if not preferring:
                del self._preferring[route.source]

    def replace_routes(self, routes: Iterable[Route]) -> tuple[Change, ...]:
        """Every route, as a fresh dump reports them."""
        return self._replace_some(list(self._routes), routes)

    def replace_routes_via(self, index: int, routes: Iterable[Route]) -> tuple[Change, ...]:
        """The routes through link *index*, as a dump filtered by that link reports them."""
        return self._replace_some(list(self._via.get(index, ())), routes)

    def _replace_some(
        self, cached: list[RouteIdentity], routes: Iterable[Route]
    ) -> tuple[Change, ...]:
        fresh = {route_identity(route): route for route in routes}
        changes: list[Change] = []
        for identity in cached:
            if identity not in fresh:
                gone = self._routes[identity]
                self._drop_route(identity)
                changes.append(Change("route", gone, None))
        for identity, route in fresh.items():
            old = self._routes.get(identity)
            if old != route:
                self._store_route(identity, route)
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

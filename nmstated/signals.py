"""Kernel changes → ``StateChanged`` deltas, coalesced per interface.

The monitor reports every change as it reads it.  The hub groups them by
interface (a route by its next-hop interface; rules and routes without one
form a group of their own) and holds each group for ``coalesce_window``
seconds from its first change, so a burst -- a link brought up gets a new
state, carrier, IPv6 link-local route and address within milliseconds --
becomes one delta.  Groups are emitted in the order their first change
arrived, each with a sequence number; a group's later changes ride along
with it.

An interface's ``old`` is what the hub last published for it (its view at
start, or in the previous delta), its ``new`` what the cache holds when the
window closes: the delta says exactly what a subscriber's copy must change,
and a change undone within the window emits nothing.

After a resync every interface is compared and everything pending goes out
at once, followed by the ``on_resynced`` listeners: once they hear of it,
the deltas before have brought every subscriber up to date.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from nmstated.backends.kernel.netlink import Address, Link, Route, Rule, RuleKey, rule_key
from nmstated.cache import Change, Model, RouteIdentity, route_identity
from nmstated.delta import (
    Delta,
    EntryChange,
    InterfaceChange,
    View,
    entry_changes,
    interface_views,
    route_entries,
    rule_entries,
)
from nmstated.monitor import KernelMonitor

log = logging.getLogger(__name__)

DEFAULT_COALESCE_WINDOW: Final = 0.03  # seconds
TIMER_SLACK: Final = 0.001
NO_INTERFACE: Final = ""  # the group of rules and of routes without a next-hop interface


@dataclass
class _Tracked:
    """An entry's nmstate form when its window opened, and its latest kernel model."""

    old: tuple[View, ...]
    new: Route | Rule | None


@dataclass
class _Group:
    deadline: float
    job: int | None = None
    interface: bool = False  # the interface itself (link or addresses) changed
    routes: dict[RouteIdentity, _Tracked] = field(default_factory=dict)
    rules: dict[RuleKey, _Tracked] = field(default_factory=dict)


class SignalHub:
    def __init__(
        self, monitor: KernelMonitor, *, coalesce_window: float = DEFAULT_COALESCE_WINDOW
    ) -> None:
        self._cache = monitor.cache
        self._window = max(0.0, coalesce_window)
        self.on_delta: list[Callable[[Delta], None]] = []
        self.on_resynced: list[Callable[[str], None]] = []
        self._views: dict[str, View] = {}
        self._pending: dict[str, _Group] = {}  # in the order the groups opened
        self._timer: asyncio.TimerHandle | None = None
        self._sequence = 0
        monitor.on_changes.append(self.record)
        monitor.on_resynced.append(self.resynced)

    def start(self) -> None:
        """Take the cache's state as what subscribers know; call once the monitor started."""
        self._views = interface_views(self._cache.links, self._cache.snapshot().addresses)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()

    def views(self) -> Mapping[str, View]:
        """Every interface as last published, by name."""
        return MappingProxyType(self._views)

    # -- intake ------------------------------------------------------------------
    def record(self, changes: tuple[Change, ...], job: int | None) -> None:
        """Changes just applied to the cache, made while our job *job* ran (or None)."""
        removed = {
            c.old.index: c.old
            for c in changes
            if c.kind == "link" and c.new is None and isinstance(c.old, Link)
        }
        # Links removed in this batch still name their routes and addresses.
        links: Mapping[int, Link] = (
            {**removed, **self._cache.links} if removed else self._cache.links
        )
        for change in changes:
            if change.kind == "link":
                for name in _link_names(change, links):
                    self._group(name, job).interface = True
            elif change.kind == "address":
                address = change.new or change.old
                owner = links.get(address.index) if isinstance(address, Address) else None
                if owner is not None:
                    self._group(owner.name, job).interface = True
            elif change.kind == "route":
                self._track_route(change, links, job)
            elif change.kind == "rule":
                self._track_rule(change, job)

    def _track_route(self, change: Change, links: Mapping[int, Link], job: int | None) -> None:
        route = change.new or change.old
        assert isinstance(route, Route)
        group = self._group(_nexthop_name(route, links), job)
        tracked = group.routes.get(route_identity(route))
        if tracked is None:
            old = route_entries(change.old, links) if isinstance(change.old, Route) else ()
            group.routes[route_identity(route)] = _Tracked(old, _route(change.new))
        else:
            tracked.new = _route(change.new)

    def _track_rule(self, change: Change, job: int | None) -> None:
        rule = change.new or change.old
        assert isinstance(rule, Rule)
        group = self._group(NO_INTERFACE, job)
        tracked = group.rules.get(rule_key(rule))
        if tracked is None:
            old = rule_entries(change.old) if isinstance(change.old, Rule) else ()
            group.rules[rule_key(rule)] = _Tracked(old, _rule(change.new))
        else:
            tracked.new = _rule(change.new)

    def _group(self, name: str, job: int | None) -> _Group:
        group = self._pending.get(name)
        if group is None:
            loop = asyncio.get_running_loop()
            group = self._pending[name] = _Group(deadline=loop.time() + self._window)
            if self._timer is None:
                self._timer = loop.call_at(group.deadline, self._on_timer)
        if job is not None:
            group.job = job
        return group

    def resynced(self, reason: str) -> None:
        """Events were lost and the cache re-read: compare everything, publish, then say so."""
        for name in set(self._views) | {link.name for link in self._cache.links.values()}:
            self._group(name, None).interface = True
        self.flush()
        for listener in list(self.on_resynced):
            try:
                listener(reason)
            except Exception:
                log.exception("a resync listener failed")

    # -- output ------------------------------------------------------------------
    def flush(self) -> None:
        """Publish everything pending now, without waiting for the windows to close."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._publish(list(self._pending))

    def _on_timer(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        # call_at may run a hair early (the loop's clock resolution).
        now = loop.time() + TIMER_SLACK
        due = []
        for name, group in self._pending.items():
            if group.deadline > now:
                break
            due.append(name)
        self._publish(due)
        if self._pending:
            first = next(iter(self._pending.values()))
            self._timer = loop.call_at(first.deadline, self._on_timer)

    def _publish(self, names: list[str]) -> None:
        groups = [(name, self._pending.pop(name)) for name in names]
        fresh = self._fresh_views(name for name, group in groups if group.interface and name)
        links = self._cache.links
        for name, group in groups:
            interfaces: list[InterfaceChange] = []
            if group.interface and name:
                old, new = self._views.get(name), fresh.get(name)
                if old != new:
                    interfaces.append(InterfaceChange(name, old, new))
                    if new is None:
                        del self._views[name]
                    else:
                        self._views[name] = new
            routes: list[EntryChange] = []
            for tracked in group.routes.values():
                now = route_entries(tracked.new, links) if isinstance(tracked.new, Route) else ()
                routes.extend(entry_changes(tracked.old, now))
            rules: list[EntryChange] = []
            for tracked in group.rules.values():
                now = rule_entries(tracked.new) if isinstance(tracked.new, Rule) else ()
                rules.extend(entry_changes(tracked.old, now))
            delta = Delta(
                self._sequence + 1, group.job, tuple(interfaces), tuple(routes), tuple(rules)
            )
            if not delta:
                continue
            self._sequence += 1
            for listener in list(self.on_delta):
                try:
                    listener(delta)
                except Exception:
                    log.exception("a state change listener failed")

    def _fresh_views(self, names: Iterable[str]) -> dict[str, View]:
        present = [link for name in names if (link := self._cache.link_named(name)) is not None]
        if not present:
            return {}
        addresses = [a for link in present for a in self._cache.addresses_of(link.index)]
        return interface_views(self._cache.links, addresses, [link.name for link in present])


def _link_names(change: Change, links: Mapping[int, Link]) -> set[str]:
    """The interfaces whose nmstate view a link change can alter.

    The link itself, its controller (port lists) and its peer or parent
    (``veth.peer``, ``base-iface``), and, when it goes or is renamed, the
    links that name it.
    """
    names = set()
    for link in (change.old, change.new):
        if not isinstance(link, Link):
            continue
        names.add(link.name)
        for index in (link.controller_index, link.link_index):
            other = links.get(index) if index else None
            if other is not None:
                names.add(other.name)
    old, new = change.old, change.new
    if isinstance(old, Link) and (not isinstance(new, Link) or new.name != old.name):
        names.update(
            link.name
            for link in links.values()
            if old.index in (link.link_index, link.controller_index)
        )
    return names


def _route(model: Model | None) -> Route | None:
    return model if isinstance(model, Route) else None


def _rule(model: Model | None) -> Rule | None:
    return model if isinstance(model, Rule) else None


def _nexthop_name(route: Route, links: Mapping[int, Link]) -> str:
    oif = route.oif
    if oif is None and route.multipath:
        oif = route.multipath[0].oif
    link = links.get(oif) if oif is not None else None
    return link.name if link is not None else NO_INTERFACE

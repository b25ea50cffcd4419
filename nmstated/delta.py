"""Kernel changes in nmstate's terms: the body of the ``StateChanged`` signal.

A delta says which interfaces, routes and route rules changed, each as
``old`` → ``new`` in the nmstate schema (``null`` for "did not exist")::

    {"sequence": 7, "job": 3,
     "interfaces": [{"name": "veth0", "changed": ["mtu"],
                     "old": {"name": "veth0", ..., "mtu": 1500, ...},
                     "new": {"name": "veth0", ..., "mtu": 9000, ...}}],
     "routes": [{"old": null, "new": {"destination": "10.1.0.0/24", ...}}],
     "route-rules": []}

``job`` is the id of our own job that was running when the kernel reported
the change, ``null`` when none was.  An interface is shown as the kernel has
it (``Show`` with ``kernel-only``), including addresses obtained at run time
but without their remaining lifetimes, which shrink on their own.  Routes
and rules are the entries ``Show`` lists; kernel-internal ones (the local
table, multicast routes, the default rules) never appear.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.netlink import Address, Link, Route, Rule
from nmstated.backends.kernel.reader import Snapshot

View = dict[str, Any]
_LIFETIMES = ("valid-life-time", "preferred-life-time")


def interface_views(
    links: Mapping[int, Link], addresses: Iterable[Address], names: Iterable[str] | None = None
) -> dict[str, View]:
    """nmstate interfaces by name (all, or those in *names* that exist)."""
    snapshot = Snapshot(links=links, addresses=tuple(addresses), routes=(), rules=())
    views = {}
    for iface in to_nmstate.interfaces(snapshot, names, include_dynamic=True):
        for family in ("ipv4", "ipv6"):
            for entry in iface.get(family, {}).get("address", ()):
                for key in _LIFETIMES:
                    entry.pop(key, None)
        views[iface["name"]] = iface
    return views


def route_entries(route: Route, links: Mapping[int, Link]) -> tuple[View, ...]:
    """The entries ``Show`` lists under ``routes.running`` for this route (maybe none)."""
    snapshot = Snapshot(links=links, addresses=(), routes=(route,), rules=())
    return tuple(to_nmstate.routes(snapshot)["running"])


def rule_entries(rule: Rule) -> tuple[View, ...]:
    snapshot = Snapshot(links={}, addresses=(), routes=(), rules=(rule,))
    return tuple(to_nmstate.route_rules(snapshot)["config"])


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of what differs between two nmstate values (lists are leaves)."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths = []
        for key in list(old) + [k for k in new if k not in old]:
            if old.get(key) != new.get(key):
                paths.extend(changed_paths(old.get(key), new.get(key), f"{prefix}{key}."))
        return paths
    return [prefix.rstrip(".")] if old != new else []


@dataclass(frozen=True, slots=True)
class InterfaceChange:
    name: str
    old: View | None
    new: View | None

    def to_dict(self) -> dict[str, Any]:
        changed = [] if self.old is None or self.new is None else changed_paths(self.old, self.new)
        return {"name": self.name, "changed": changed, "old": self.old, "new": self.new}


@dataclass(frozen=True, slots=True)
class EntryChange:
    """One route or rule entry: ``old`` None when added, ``new`` None when removed."""

    old: View | None
    new: View | None

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new}


def entry_changes(old: tuple[View, ...], new: tuple[View, ...]) -> list[EntryChange]:
    """Pair the entries of one route (or rule) before and after, dropping the unchanged."""
    if old == new:
        return []
    return [
        EntryChange(old[i] if i < len(old) else None, new[i] if i < len(new) else None)
        for i in range(max(len(old), len(new)))
    ]


@dataclass(frozen=True, slots=True)
class Delta:
    sequence: int
    job: int | None
    interfaces: tuple[InterfaceChange, ...] = ()
    routes: tuple[EntryChange, ...] = ()
    rules: tuple[EntryChange, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.interfaces or self.routes or self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "job": self.job,
            "interfaces": [change.to_dict() for change in self.interfaces],
            "routes": [change.to_dict() for change in self.routes],
            "route-rules": [change.to_dict() for change in self.rules],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

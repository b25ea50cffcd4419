"""Show's most expensive parts, reused while what they come from is unchanged.

With 10,000 routes, building the nmstate view of the routes and writing it
as JSON is most of a Show, although routes rarely change between two reads,
and then only a few of them.  ``RoutesView`` keeps the last view and reuses
it while the kernel's routes (compared as the same objects, cheaply) and the
interface names they refer to are the same; when they differ, each route's
entries are still reused while the route and its links' names are the same,
so one new route costs one conversion and a sort.  ``RoutesJson`` writes the
routes view as ``json.dumps`` would, keeping each entry's text while it is
handed that very entry object again.  Nothing is ever reused for different
input: reuse is keyed on equality (routes, names) and on identity (entries
held while their text is kept), never on time.

The views handed out are shared: callers must not change them (the
readers build new dicts around them; the models copy what they take).
"""

from __future__ import annotations

import json
from typing import Any

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.netlink import Route
from nmstated.backends.kernel.reader import Snapshot
from nmstated.backends.kernel.to_nmstate import RouteEntry

RoutesDict = dict[str, list[dict[str, Any]]]


class RoutesView:
    """``to_nmstate.routes`` of the last read, while its input is unchanged."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: RoutesDict = {}
        self._names: dict[int, str] = {}
        # id(route) -> (route, its entries): the route is held, so its id stays its own.
        self._entries: dict[int, tuple[Route, list[RouteEntry]]] = {}

    def routes(self, snapshot: Snapshot, names: list[str] | None) -> RoutesDict:
        # Route objects of an unchanged cache are the same objects: the tuple
        # comparison is an identity check per route.
        link_names = {index: link.name for index, link in snapshot.links.items()}
        key = (snapshot.routes, link_names, None if names is None else tuple(names))
        if key == self._key:
            return self._value
        # Links renamed, gone or new since the last view: the entries of the
        # routes through them name other interfaces now.
        old_names = self._names
        renamed = {i for i, name in old_names.items() if link_names.get(i) != name}
        renamed |= link_names.keys() - old_names.keys()
        known, kept = self._entries, {}
        links = snapshot.links

        def entries(route: Route) -> list[RouteEntry]:
            found = known.get(id(route))
            if (
                found is None
                or found[0] is not route
                or (renamed and not renamed.isdisjoint(route.links))
            ):
                found = (route, to_nmstate.route_entries(route, links))
            kept[id(route)] = found
            return found[1]

        self._value = to_nmstate.routes(snapshot, names, entries)
        self._entries = kept  # only what this view holds
        self._names = link_names
        self._key = key
        return self._value


class RoutesJson:
    """``json.dumps`` of a routes view (a dict of lists of flat entries), each
    entry's text kept while the same entry object comes back."""

    def __init__(self) -> None:
        # id(entry) -> (entry, text): the entry is held, so its id stays its own.
        self._texts: dict[int, tuple[object, str]] = {}
        self._last: tuple[object, str] = (None, "null")  # the last view and its text

    def dumps(self, routes: RoutesDict) -> str:
        if not isinstance(routes, dict) or not all(isinstance(v, list) for v in routes.values()):
            return json.dumps(routes)  # not a routes view: nothing to reuse
        if routes is self._last[0]:  # the very same view: nothing changed
            return self._last[1]
        known, kept = self._texts, {}
        sections = []
        for name, entries in routes.items():
            texts = []
            for entry in entries:
                found = known.get(id(entry))
                if found is None or found[0] is not entry:
                    found = (entry, json.dumps(entry))
                kept[id(entry)] = found
                texts.append(found[1])
            sections.append(f"{json.dumps(name)}: [{', '.join(texts)}]")
        self._texts = kept
        text = "{" + ", ".join(sections) + "}"
        self._last = (routes, text)
        return text

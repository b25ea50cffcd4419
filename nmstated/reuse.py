"""Show's most expensive parts, reused while what they come from is unchanged.

With 10,000 routes, building the nmstate view of the routes and writing it
as JSON is most of a Show, although routes rarely change between two reads.
``RoutesView`` keeps the last view and reuses it while the kernel's routes
(compared as the same objects, cheaply) and the interface names they refer
to are the same; ``LastJson`` keeps the JSON text of the last object it
wrote while it is handed that very object again.  Nothing is ever reused
for different input: reuse is keyed on equality (routes, names) and on
identity (JSON), never on time.

The views handed out are shared: callers must not change them (the
readers build new dicts around them; the models copy what they take).
"""

from __future__ import annotations

import json
from typing import Any

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.reader import Snapshot

RoutesDict = dict[str, list[dict[str, Any]]]


class RoutesView:
    """``to_nmstate.routes`` of the last read, while its input is unchanged."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: RoutesDict = {}

    def routes(self, snapshot: Snapshot, names: list[str] | None) -> RoutesDict:
        # Route objects of an unchanged cache are the same objects: the tuple
        # comparison is an identity check per route.
        key = (
            snapshot.routes,
            {index: link.name for index, link in snapshot.links.items()},
            None if names is None else tuple(names),
        )
        if key != self._key:
            self._value = to_nmstate.routes(snapshot, names)
            self._key = key
        return self._value


class LastJson:
    """``json.dumps`` of one value, written again only when handed another object."""

    def __init__(self) -> None:
        self._value: object = None  # held, so its id() cannot be reused meanwhile
        self._text = "null"

    def dumps(self, value: object) -> str:
        if value is not self._value:
            self._text = json.dumps(value)
            self._value = value
        return self._text

"""In which order interfaces are removed, saved and activated.  Pure.

A controller comes up before its ports and a parent (``base-iface``)
before the interfaces stacked on it; removal goes the other way.  Apart
from that the request's order is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from nmstated.errors import InvalidArgument

T = TypeVar("T")


def dependencies(
    names: Iterable[str],
    controller_of: Mapping[str, str],
    parent_of: Mapping[str, str],
) -> dict[str, set[str]]:
    """For each name, the names among *names* that must come up before it."""
    wanted = set(names)
    deps: dict[str, set[str]] = {name: set() for name in wanted}
    for name in wanted:
        for needed in (controller_of.get(name), parent_of.get(name)):
            if needed and needed in wanted and needed != name:
                deps[name].add(needed)
    return deps


def bring_up_order(
    items: Sequence[T], key: Callable[[T], str], deps: Mapping[str, set[str]]
) -> list[T]:
    """*items* with every dependency before its dependents, otherwise in the given order."""
    by_name = {key(item): item for item in items}
    done: set[str] = set()
    visiting: list[str] = []
    ordered: list[T] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " → ".join([*visiting[visiting.index(name) :], name])
            raise InvalidArgument(f"interfaces depend on each other in a circle: {cycle}")
        visiting.append(name)
        for needed in sorted(deps.get(name, ()), key=list(by_name).index):
            visit(needed)
        visiting.pop()
        done.add(name)
        ordered.append(by_name[name])

    for item in items:
        visit(key(item))
    return ordered


def tear_down_order(
    items: Sequence[T], key: Callable[[T], str], deps: Mapping[str, set[str]]
) -> list[T]:
    """Dependents before what they depend on (ports before controllers, children before parents)."""
    return list(reversed(bring_up_order(list(reversed(items)), key, deps)))

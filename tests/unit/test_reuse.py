"""Show's reused parts: reused only for the same input, rebuilt for any change."""

from __future__ import annotations

import json
from types import MappingProxyType

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.netlink import Link, Route
from nmstated.backends.kernel.reader import Snapshot
from nmstated.reuse import LastJson, RoutesView
from nmstated.service.manager import encode_state


def link(index: int, name: str) -> Link:
    return Link(
        index=index,
        name=name,
        kind="veth",
        mtu=1500,
        mac="02:00:00:00:00:01",
        operstate="up",
        up=True,
        controller_index=None,
        link_index=None,
        link_netnsid=None,
    )


def route(destination: str, oif: int, metric: int = 0) -> Route:
    return Route(
        family=2,
        table=254,
        destination=destination,
        gateway=None,
        oif=oif,
        metric=metric,
        protocol=4,
        scope=0,
        type=1,
        source=None,
    )


def snapshot(routes: tuple[Route, ...], links: dict[int, Link]) -> Snapshot:
    return Snapshot(links=MappingProxyType(links), addresses=(), routes=routes, rules=())


def test_routes_are_reused_only_while_routes_and_names_are_unchanged() -> None:
    view = RoutesView()
    links = {2: link(2, "v0")}
    routes = (route("10.0.0.0/24", 2), route("10.0.1.0/24", 2))
    first = view.routes(snapshot(routes, links), None)
    assert first == to_nmstate.routes(snapshot(routes, links), None)
    # A new snapshot of the same cache: the same route objects, a new tuple.
    assert view.routes(snapshot(tuple(routes), dict(links)), None) is first
    # A changed route, a renamed interface, a name filter: built again.
    changed = (routes[0], route("10.0.1.0/24", 2, metric=5))
    assert view.routes(snapshot(changed, links), None)["running"][1]["metric"] == 5
    renamed = view.routes(snapshot(changed, {2: link(2, "v9")}), None)
    assert {e["next-hop-interface"] for e in renamed["running"]} == {"v9"}
    assert view.routes(snapshot(changed, {2: link(2, "v9")}), ["other"])["running"] == []


def test_json_is_written_again_for_another_object() -> None:
    last = LastJson()
    value = {"running": [{"destination": "10.0.0.0/24"}]}
    text = last.dumps(value)
    assert last.dumps(value) is text
    other = {"running": []}
    assert last.dumps(other) == json.dumps(other)


def test_encoded_state_is_plain_json() -> None:
    state = {"hostname": {"running": "h"}, "routes": {"running": [], "config": []}, "x": [1, "é"]}
    assert json.loads(encode_state(state, "json")) == state
    assert encode_state(state, "json") == json.dumps(state)

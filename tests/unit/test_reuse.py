"""Show's reused parts: reused only for the same input, rebuilt for any change."""

from __future__ import annotations

import json
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.netlink import Link, Route
from nmstated.backends.kernel.reader import Snapshot
from nmstated.reuse import RoutesJson, RoutesView
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


def test_an_unchanged_route_keeps_its_entry_objects_when_another_changes() -> None:
    """One new route among many converts one route, not all of them."""
    view = RoutesView()
    links = {2: link(2, "v0"), 3: link(3, "v1")}
    routes = (route("10.0.0.0/24", 2), route("10.0.1.0/24", 3))
    first = view.routes(snapshot(routes, links), None)
    second = view.routes(snapshot((*routes, route("10.0.2.0/24", 2)), links), None)
    assert second["running"][0] is first["running"][0]
    assert second["config"][1] is first["config"][1]
    assert second == to_nmstate.routes(snapshot((*routes, route("10.0.2.0/24", 2)), links))
    # The link of the first route renamed: its entries are new, the other's are kept.
    renamed = view.routes(snapshot(routes, {**links, 2: link(2, "v9")}), None)
    assert renamed["running"][0]["next-hop-interface"] == "v9"
    assert renamed["running"][1] is first["running"][1]


_entries = st.lists(
    st.dictionaries(
        st.sampled_from(["destination", "metric", "next-hop-interface", "weight", "é"]),
        st.one_of(st.integers(), st.text(max_size=8), st.none()),
        max_size=4,
    ),
    max_size=5,
)


@given(st.dictionaries(st.sampled_from(["running", "config"]), _entries))
def test_routes_json_is_json_dumps(routes: dict[str, list[dict[str, object]]]) -> None:
    writer = RoutesJson()
    assert writer.dumps(routes) == json.dumps(routes)
    assert writer.dumps(routes) == json.dumps(routes)  # from kept texts


def test_a_new_entry_among_kept_ones_is_written() -> None:
    writer = RoutesJson()
    entry = {"destination": "10.0.0.0/24"}
    writer.dumps({"running": [entry]})
    fresh = {"destination": "10.0.9.0/24"}
    assert writer.dumps({"running": [fresh, entry]}) == json.dumps({"running": [fresh, entry]})


def test_encoded_state_is_plain_json() -> None:
    state = {"hostname": {"running": "h"}, "routes": {"running": [], "config": []}, "x": [1, "é"]}
    assert json.loads(encode_state(state, "json")) == state
    assert encode_state(state, "json") == json.dumps(state)


def test_the_same_view_again_is_the_same_text() -> None:
    writer = RoutesJson()
    view = {"running": [{"destination": "10.0.0.0/24"}], "config": []}
    text = writer.dumps(view)
    assert writer.dumps(view) is text
    other = {"running": [], "config": []}
    assert writer.dumps(other) == json.dumps(other)

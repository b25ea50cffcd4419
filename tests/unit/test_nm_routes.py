"""Routes and rules in profiles: nmstate's append / absent-wildcard semantics, both directions."""

from __future__ import annotations

from typing import Any

import pytest

from nmstated.backends.networkmanager import routes
from nmstated.backends.networkmanager.client import unwrap
from nmstated.backends.networkmanager.routes import ProfileRoutes
from nmstated.errors import InvalidArgument
from nmstated.model import Route, RouteRule


def route(**data: Any) -> Route:
    return Route.from_dict({k.replace("_", "-"): v for k, v in data.items()})


def rule(**data: Any) -> RouteRule:
    return RouteRule.from_dict({k.replace("_", "-"): v for k, v in data.items()})


MAIN_V4 = route(
    destination="198.51.100.0/24",
    next_hop_interface="eth1",
    next_hop_address="192.0.2.1",
    metric=150,
    table_id=254,
)
TABLE_100 = route(
    destination="203.0.113.0/24",
    next_hop_interface="eth1",
    next_hop_address="192.0.2.1",
    table_id=100,
)
V6 = route(
    destination="2001:db8:2::/64",
    next_hop_interface="eth1",
    next_hop_address="2001:db8:1::1",
    table_id=254,
)
ETH2_DEFAULT = route(
    destination="0.0.0.0/0", next_hop_interface="eth2", next_hop_address="192.0.3.1", table_id=254
)


def profiles(**routes_by_name: tuple[Route, ...]) -> dict[str, ProfileRoutes]:
    out = {}
    for name, entries in routes_by_name.items():
        out[name] = ProfileRoutes(
            name,
            routes={
                4: tuple(r for r in entries if r.family == 4),
                6: tuple(r for r in entries if r.family == 6),
            },
            families=frozenset({4, 6}),
        )
    return out


def test_route_round_trip_through_route_data() -> None:
    blackhole = route(
        destination="192.0.2.128/25",
        next_hop_interface="eth1",
        route_type="blackhole",
        source="192.0.2.1",
        weight=5,
    )
    for original in (MAIN_V4, TABLE_100, V6, blackhole):
        back = routes.route_from_nm(unwrap(routes.route_to_nm(original)), "eth1")
        assert original.matches(back) and back.matches(original)
    # Defaults come back filled in: the main table, "no gateway".
    assert routes.route_from_nm(unwrap(routes.route_to_nm(blackhole)), "eth1").to_dict() == {
        "destination": "192.0.2.128/25",
        "next-hop-interface": "eth1",
        "next-hop-address": "",
        "table-id": 254,
        "weight": 5,
        "route-type": "blackhole",
        "source": "192.0.2.1",
    }
    assert unwrap(routes.route_to_nm(MAIN_V4)) == {
        "dest": "198.51.100.0",
        "prefix": 24,
        "table": 254,
        "next-hop": "192.0.2.1",
        "metric": 150,
    }


def test_a_route_without_table_is_written_with_the_main_table() -> None:
    entry = unwrap(routes.route_to_nm(route(destination="10.0.0.0/8", next_hop_interface="eth1")))
    assert entry == {"dest": "10.0.0.0", "prefix": 8, "table": 254}


def test_desired_routes_are_appended() -> None:
    plan = routes.plan([TABLE_100, V6], None, profiles(eth1=(MAIN_V4,)))
    assert plan.routes == {"eth1": {4: (MAIN_V4, TABLE_100), 6: (V6,)}}


def test_a_route_already_there_changes_nothing() -> None:
    # Given without metric, it matches the existing route whatever its metric.
    again = route(
        destination="198.51.100.0/24", next_hop_interface="eth1", next_hop_address="192.0.2.1"
    )
    plan = routes.plan([again], None, profiles(eth1=(MAIN_V4,)))
    assert plan.routes == {} and plan.interfaces == set()


def test_absent_is_a_wildcard_and_ignores_the_metric() -> None:
    current = profiles(eth1=(MAIN_V4, TABLE_100, V6), eth2=(ETH2_DEFAULT,))
    by_interface = routes.plan([route(state="absent", next_hop_interface="eth1")], None, current)
    assert by_interface.routes == {"eth1": {4: (), 6: ()}}
    by_table = routes.plan([route(state="absent", table_id=100)], None, current)
    assert by_table.routes == {"eth1": {4: (MAIN_V4,)}}
    exact = routes.plan(
        [
            route(
                state="absent", destination="198.51.100.0/24", next_hop_interface="eth1", metric=999
            )
        ],
        None,
        current,
    )
    assert exact.routes == {"eth1": {4: (TABLE_100,)}}
    everything = routes.plan([route(state="absent")], None, current)
    assert everything.routes == {"eth1": {4: (), 6: ()}, "eth2": {4: ()}}


def test_a_route_both_removed_and_listed_stays() -> None:
    plan = routes.plan(
        [route(state="absent", next_hop_interface="eth1"), TABLE_100],
        None,
        profiles(eth1=(MAIN_V4, TABLE_100)),
    )
    assert plan.routes == {"eth1": {4: (TABLE_100,)}}


def test_routes_of_an_interface_that_goes_absent_are_not_planned() -> None:
    plan = routes.plan(
        [route(state="absent")],
        None,
        profiles(eth1=(MAIN_V4,), eth2=(ETH2_DEFAULT,)),
        gone=["eth2"],
    )
    assert set(plan.routes) == {"eth1"}


def test_route_needs_an_interface_with_a_profile() -> None:
    with pytest.raises(
        InvalidArgument, match=r"routes.config\[0\]: a route needs next-hop-interface"
    ):
        routes.plan([route(destination="10.0.0.0/8")], None, profiles(eth1=()))
    with pytest.raises(
        InvalidArgument, match=r"routes.config\[1\]: eth9 has no NetworkManager profile"
    ):
        routes.plan(
            [MAIN_V4, route(destination="10.0.0.0/8", next_hop_interface="eth9")],
            None,
            profiles(eth1=()),
        )


def test_rule_round_trip_through_routing_rules() -> None:
    samples = [
        rule(family="ipv4", ip_from="192.0.2.0/24", priority=1000, route_table=100),
        rule(family="ipv6", ip_to="2001:db8::/32", priority=1001, route_table=200),
        rule(family="ipv4", ip_to="10.0.0.0/8", priority=1002, action="prohibit"),
        rule(
            family="ipv4",
            priority=1003,
            fwmark=16,
            fwmask=255,
            iif="eth1",
            route_table=254,
            suppress_prefix_length=0,
        ),
    ]
    for original in samples:
        assert routes.rule_from_nm(unwrap(routes.rule_to_nm(original))) == original
    assert unwrap(routes.rule_to_nm(samples[2])) == {
        "family": 2,
        "priority": 1002,
        "to": "10.0.0.0",
        "to-len": 8,
        "action": 8,
    }


def test_a_rule_gets_nmstates_default_priority_and_the_main_table() -> None:
    entry = unwrap(routes.rule_to_nm(rule(ip_from="192.0.2.0/24")))
    assert entry["priority"] == 30000 and entry["table"] == 254 and entry["family"] == 2
    marked = unwrap(routes.rule_to_nm(rule(family="ipv4", fwmark="0x10", priority=5)))
    assert (marked["fwmark"], marked["fwmask"]) == (16, 0xFFFFFFFF)


def test_a_rule_goes_to_its_iif_then_to_the_interface_routing_through_its_table() -> None:
    views = {
        "eth1": ProfileRoutes("eth1", routes={4: (TABLE_100,)}, families=frozenset({4})),
        "eth2": ProfileRoutes("eth2", routes={4: (ETH2_DEFAULT,)}, families=frozenset({4})),
        "eth3": ProfileRoutes("eth3", families=frozenset({4, 6})),
    }
    by_table = rule(ip_from="192.0.2.0/24", priority=100, route_table=100)
    by_iif = rule(family="ipv4", iif="eth2", priority=101, route_table=100)
    v6 = rule(ip_from="2001:db8::/64", priority=102, route_table=100)
    plan = routes.plan(None, [by_table, by_iif, v6], views)
    assert plan.rules["eth1"][4][0].ip_from == "192.0.2.0/24"
    assert plan.rules["eth2"][4][0].iif == "eth2"
    assert plan.rules["eth3"][6][0].ip_from == "2001:db8::/64"
    # An interface the request brings up is preferred to the others.
    preferred = routes.plan(None, [v6], views, up=["eth3"])
    assert set(preferred.rules) == {"eth3"}


def test_rules_removed_by_table_wildcard_from_every_profile() -> None:
    keep = rule(family="ipv4", ip_to="10.0.0.0/8", priority=5, action="prohibit")
    views = {
        "eth1": ProfileRoutes(
            "eth1",
            rules={
                4: (rule(family="ipv4", ip_from="192.0.2.0/24", priority=1, route_table=100), keep)
            },
            families=frozenset({4}),
        ),
        "eth2": ProfileRoutes(
            "eth2",
            rules={6: (rule(family="ipv6", ip_from="2001:db8::/64", priority=2, route_table=100),)},
            families=frozenset({6}),
        ),
    }
    plan = routes.plan(None, [rule(state="absent", route_table=100)], views)
    assert plan.rules == {"eth1": {4: (keep,)}, "eth2": {6: ()}}


def test_a_rule_already_held_anywhere_is_not_added_again() -> None:
    held = rule(family="ipv4", ip_from="192.0.2.0/24", priority=30000, route_table=254)
    views = {
        "eth1": ProfileRoutes("eth1", rules={4: (held,)}, families=frozenset({4})),
        "eth2": ProfileRoutes("eth2", families=frozenset({4})),
    }
    plan = routes.plan(None, [rule(ip_from="192.0.2.0/24")], views, up=["eth2"])
    assert plan.rules == {}


def test_no_holder_for_a_rule_is_named() -> None:
    views = {"eth1": ProfileRoutes("eth1", families=frozenset({4}))}
    with pytest.raises(
        InvalidArgument, match=r"route-rules.config\[0\]: no interface with IPv6 enabled"
    ):
        routes.plan(None, [rule(ip_from="2001:db8::/64")], views)

"""Route rules in effect survive changes to the rest of the state: when the profile
holding them goes or can no longer hold them, the plan moves them (or refuses)."""

from __future__ import annotations

from typing import Any

import pytest
from dbus_fast import Variant

from nmstated import diff
from nmstated.backends.networkmanager import routes, settings
from nmstated.backends.networkmanager.client import Device, Settings
from nmstated.backends.networkmanager.features import NmFeatures
from nmstated.backends.networkmanager.plan import Action, Known, effects, make_plan
from nmstated.backends.networkmanager.routes import ProfileRoutes
from nmstated.diff import Effects, RuleMove
from nmstated.errors import InvalidArgument
from nmstated.model import NetworkState, Route, RouteRule

NM = NmFeatures.from_version("1.42.4")


def rule(**data: Any) -> RouteRule:
    return RouteRule.from_dict({k.replace("_", "-"): v for k, v in data.items()})


FROM_88 = rule(family="ipv4", ip_from="10.88.0.0/16", priority=1001, route_table=100)
TO_99 = rule(family="ipv4", ip_to="10.99.0.0/16", priority=1002, route_table=254)
V6 = rule(family="ipv6", ip_from="2001:db8:88::/48", priority=1003, route_table=100)
TABLE_100 = Route.from_dict(
    {"destination": "203.0.113.0/24", "next-hop-interface": "eth3", "table-id": 100}
)


def view(name: str, *held: RouteRule, **options: Any) -> ProfileRoutes:
    by_family = {4: tuple(r for r in held if r.family == "ipv4")}
    by_family[6] = tuple(r for r in held if r.family == "ipv6")
    return ProfileRoutes(
        name,
        routes=options.get("routes", {}),
        rules=by_family,
        families=options.get("families", frozenset({4, 6})),
        active=options.get("active", True),
    )


# -- routes.plan: which rules move, and where ---------------------------------------------


def test_rules_of_a_profile_that_goes_move_to_one_routing_through_their_table() -> None:
    before = {
        "eth1": view("eth1"),
        "eth2": view("eth2", FROM_88, TO_99),
        "eth3": view("eth3", routes={4: (TABLE_100,)}),
    }
    planned = routes.plan(None, None, before, gone=["eth2"], before=before)
    # Table 100 is routed through eth3; for the other, the first able by name.
    assert planned.rules == {"eth3": {4: (FROM_88,)}, "eth1": {4: (TO_99,)}}
    assert planned.moved == [RuleMove(FROM_88, "eth2", "eth3"), RuleMove(TO_99, "eth2", "eth1")]


def test_without_a_table_match_the_request_s_interfaces_then_the_loopback_hold_rules() -> None:
    before = {"eth1": view("eth1"), "eth2": view("eth2", TO_99), "lo": view("lo")}
    # As nmstate: the loopback's profile before an interface the request does not name.
    planned = routes.plan(None, None, before, gone=["eth2"], before=before)
    assert planned.moved == [RuleMove(TO_99, "eth2", "lo")]
    brought_up = {**before, "eth3": view("eth3")}
    planned = routes.plan(None, None, brought_up, up=["eth3"], gone=["eth2"], before=before)
    assert planned.moved == [RuleMove(TO_99, "eth2", "eth3")]


def test_rules_leave_a_profile_whose_family_is_disabled_or_that_goes_down() -> None:
    before = {"eth1": view("eth1", FROM_88, V6), "eth2": view("eth2")}
    no_ipv4 = {**before, "eth1": view("eth1", FROM_88, V6, families=frozenset({6}))}
    planned = routes.plan(None, None, no_ipv4, before=before)
    # Only the IPv4 rule moves; eth1 keeps its IPv6 rule.
    assert planned.rules == {"eth1": {4: ()}, "eth2": {4: (FROM_88,)}}
    down = {**before, "eth1": view("eth1", FROM_88, V6, active=False)}
    planned = routes.plan(None, None, down, before=before)
    assert planned.rules == {"eth1": {4: (), 6: ()}, "eth2": {4: (FROM_88,), 6: (V6,)}}


def test_a_profile_that_becomes_a_port_hands_its_rules_over() -> None:
    before = {"eth1": view("eth1", FROM_88), "eth2": view("eth2")}
    planned = routes.plan(None, None, {"eth2": before["eth2"]}, before=before)
    assert planned.moved == [RuleMove(FROM_88, "eth1", "eth2")]


def test_rules_not_in_effect_and_rules_the_request_removes_do_not_move() -> None:
    inactive = {"eth1": view("eth1", FROM_88, active=False), "eth2": view("eth2")}
    assert routes.plan(None, None, inactive, gone=["eth1"], before=inactive).moved == []
    before = {"eth1": view("eth1", FROM_88, TO_99), "eth2": view("eth2")}
    planned = routes.plan(
        None, [rule(state="absent", route_table=100)], before, gone=["eth1"], before=before
    )
    assert planned.moved == [RuleMove(TO_99, "eth1", "eth2")]
    assert planned.rules == {"eth2": {4: (TO_99,)}}


def test_a_rule_the_request_lists_again_is_held_once() -> None:
    before = {"eth1": view("eth1", FROM_88), "eth2": view("eth2")}
    planned = routes.plan(None, [FROM_88], before, gone=["eth1"], before=before)
    assert planned.rules == {"eth2": {4: (FROM_88,)}} and planned.moved == []


def test_no_profile_left_to_hold_a_rule_is_refused_naming_it() -> None:
    before = {
        "eth1": view("eth1", FROM_88),
        "eth2": view("eth2", families=frozenset({6})),  # no IPv4
        "eth3": view("eth3", active=False),  # not in effect
    }
    with pytest.raises(InvalidArgument) as raised:
        routes.plan(None, None, before, gone=["eth1"], before=before)
    message = raised.value.message
    assert "\n" not in message
    assert message.startswith("route-rules: rule {family: ipv4, ip-from: 10.88.0.0/16")
    assert "eth1, whose profile holds it, goes absent" in message


def test_a_new_rule_is_not_put_where_it_would_not_be_in_effect() -> None:
    profiles = {"eth1": view("eth1", active=False), "eth2": view("eth2")}
    planned = routes.plan(None, [FROM_88], profiles)
    assert set(planned.rules) == {"eth2"}


# -- make_plan: from what NetworkManager has ----------------------------------------------


def device(name: str, active: bool = True) -> Device:
    return Device(
        path=f"/dev/{name}",
        name=name,
        state=100 if active else 30,
        managed=True,
        device_type=1,
        active_connection=f"/active/{name}" if active else "/",
        real=True,
    )


def profile(name: str, *held: RouteRule) -> Settings:
    ipv4: dict[str, Variant] = {
        "method": Variant("s", "manual"),
        "address-data": Variant(
            "aa{sv}", [{"address": Variant("s", "192.0.2.1"), "prefix": Variant("u", 24)}]
        ),
    }
    if held:
        ipv4.update(settings.routing_rules(held))
    return {
        "connection": {
            "id": Variant("s", name),
            "type": Variant("s", "802-3-ethernet"),
            "interface-name": Variant("s", name),
        },
        "ipv4": ipv4,
        "ipv6": {"method": Variant("s", "disabled")},
    }


def known(**held: tuple[RouteRule, ...]) -> dict[str, Known]:
    return {
        name: Known(
            profiles=((f"/p/{name}", profile(name, *rules)),),
            device=device(name),
            active_profile=f"/p/{name}",
        )
        for name, rules in held.items()
    }


def ipv4_rules(step_settings: Settings) -> list[dict[str, Any]]:
    return list(settings.plain(step_settings)["ipv4"].get("routing-rules", []))


def test_an_absent_holder_s_rules_go_to_another_profile_in_the_same_plan() -> None:
    found = known(eth1=(), eth2=(FROM_88, TO_99))
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth2", "state": "absent"}]})
    plan = make_plan(desired, found, NM)
    assert [r.name for r in plan.removals] == ["eth2"]
    (step,) = plan.steps
    assert (step.name, step.action, step.changed) == ("eth1", Action.PROFILE, True)
    assert [r["priority"] for r in ipv4_rules(step.settings)] == [1001, 1002]
    assert effects(plan) == Effects(
        removed=frozenset({"eth2"}),
        moved_rules=(RuleMove(FROM_88, "eth2", "eth1"), RuleMove(TO_99, "eth2", "eth1")),
    )


def test_disabling_the_holder_s_ipv4_moves_all_its_rules() -> None:
    found = known(eth1=(), eth2=(FROM_88, TO_99))
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth2", "ipv4": {"enabled": False}}]})
    plan = make_plan(desired, found, NM)
    by_name = {s.name: s for s in plan.steps}
    assert settings.plain(by_name["eth2"].settings)["ipv4"]["method"] == "disabled"
    assert ipv4_rules(by_name["eth2"].settings) == []
    assert [r["priority"] for r in ipv4_rules(by_name["eth1"].settings)] == [1001, 1002]
    assert [m.target for m in plan.moved_rules] == ["eth1", "eth1"]


def test_enabled_without_addresses_is_off_for_networkmanager_so_rules_move() -> None:
    found = known(eth1=(), eth2=(FROM_88,))
    desired = NetworkState.from_dict(
        {"interfaces": [{"name": "eth2", "ipv4": {"enabled": True, "address": []}}]}
    )
    assert make_plan(desired, found, NM).moved_rules == (RuleMove(FROM_88, "eth2", "eth1"),)


def test_a_change_that_leaves_the_holder_able_moves_nothing() -> None:
    found = known(eth1=(), eth2=(FROM_88,))
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth2", "mtu": 1400}]})
    plan = make_plan(desired, found, NM)
    assert plan.moved_rules == () and [s.name for s in plan.steps] == ["eth2"]


def test_the_plan_refuses_when_the_last_holder_goes() -> None:
    found = known(eth2=(FROM_88,))
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth2", "state": "absent"}]})
    with pytest.raises(InvalidArgument, match=r"route-rules: rule .*1001.* would be lost: eth2"):
        make_plan(desired, found, NM)


# -- the dry run's diff ---------------------------------------------------------------------


CURRENT = NetworkState.from_dict(
    {
        "interfaces": [
            {
                "name": "eth2",
                "type": "ethernet",
                "state": "up",
                "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.20", "prefix-length": 24}]},
            }
        ]
    }
)
ABSENT = NetworkState.from_dict({"interfaces": [{"name": "eth2", "state": "absent"}]})


def test_a_nic_whose_profile_goes_is_in_the_diff() -> None:
    # The kernel keeps a NIC, so the state alone cannot tell; the plan can.
    assert diff.diff(ABSENT, CURRENT)["interfaces"] == []
    removed = Effects(removed=frozenset({"eth2"}))
    assert diff.diff(ABSENT, CURRENT, removed)["interfaces"] == [
        {"name": "eth2", "state": "absent"}
    ]


def test_moved_rules_are_in_the_diff() -> None:
    moved = Effects(removed=frozenset({"eth2"}), moved_rules=(RuleMove(FROM_88, "eth2", "eth1"),))
    assert diff.diff(ABSENT, CURRENT, moved)["moved-route-rules"] == [
        {
            "rule": {
                "family": "ipv4",
                "ip-from": "10.88.0.0/16",
                "priority": 1001,
                "route-table": 100,
            },
            "from": "eth2",
            "to": "eth1",
        }
    ]

"""merge: overlay, implied interfaces, types; properties checked with hypothesis."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmstated import verify
from nmstated.errors import InvalidArgument
from nmstated.merge import (
    implied_interfaces,
    merged_interfaces,
    overlay,
    plan_input,
    resolve_types,
    with_implied,
)
from nmstated.model import NetworkState


def state(*interfaces: dict[str, Any]) -> NetworkState:
    return NetworkState.from_dict({"interfaces": list(interfaces)})


CURRENT = state({"name": "eth1", "type": "veth"})


def test_overlay_merges_mappings_and_replaces_lists() -> None:
    current = {"ipv4": {"enabled": True, "dhcp": False, "address": [1, 2]}, "mtu": 1500}
    desired = {"ipv4": {"address": [3]}}
    assert overlay(current, desired) == {
        "ipv4": {"enabled": True, "dhcp": False, "address": [3]},
        "mtu": 1500,
    }


def test_missing_type_comes_from_current_state() -> None:
    desired = state({"name": "eth1", "mtu": 1400})
    (iface,) = resolve_types(desired, CURRENT).interfaces
    assert (iface.type, iface.mtu) == ("veth", 1400)


def test_new_interface_without_type_is_rejected_with_its_index() -> None:
    desired = state({"name": "eth1"}, {"name": "new0"})
    with pytest.raises(InvalidArgument, match=r"interfaces\[1\] \(new0\): .*'type' is required"):
        resolve_types(desired, CURRENT)


def test_absent_needs_no_type() -> None:
    desired = state({"name": "gone0", "state": "absent"})
    assert resolve_types(desired, CURRENT).interfaces[0].type is None


BRIDGED = state(
    {
        "name": "br0",
        "type": "linux-bridge",
        "bridge": {"port": [{"name": "eth1"}, {"name": "eth2"}]},
    },
    {"name": "eth1", "type": "ethernet", "controller": "br0"},
    {"name": "eth2", "type": "ethernet", "controller": "br0"},
    {"name": "eth3", "type": "ethernet"},
    {"name": "vx0", "type": "vxlan", "vxlan": {"base-iface": "eth3", "id": 5}},
)


def implied(desired: NetworkState, current: NetworkState) -> dict[str, dict[str, Any]]:
    return {i.name: i.to_dict() for i in implied_interfaces(desired, current)}


def test_ports_gained_and_lost_are_pulled_in() -> None:
    desired = state({"name": "br0", "bridge": {"port": [{"name": "eth1"}, {"name": "eth3"}]}})
    assert implied(desired, BRIDGED) == {
        "eth3": {"name": "eth3", "controller": "br0"},
        "eth2": {"name": "eth2", "controller": ""},
    }


def test_empty_port_list_detaches_all() -> None:
    desired = state({"name": "br0", "bridge": {"port": []}})
    assert set(implied(desired, BRIDGED)) == {"eth1", "eth2"}


def test_bridge_without_port_list_leaves_ports_alone() -> None:
    assert implied(state({"name": "br0", "mtu": 1400}), BRIDGED) == {}


def test_absent_parent_takes_children_and_frees_ports() -> None:
    assert implied(state({"name": "eth3", "state": "absent"}), BRIDGED) == {
        "vx0": {"name": "vx0", "state": "absent"}
    }
    assert implied(state({"name": "br0", "state": "absent"}), BRIDGED) == {
        "eth1": {"name": "eth1", "controller": ""},
        "eth2": {"name": "eth2", "controller": ""},
    }


def test_new_veth_pulls_in_its_peer() -> None:
    desired = state({"name": "v0", "type": "veth", "veth": {"peer": "v1"}})
    assert implied(desired, BRIDGED) == {
        "v1": {"name": "v1", "type": "veth", "state": "up", "veth": {"peer": "v0"}}
    }
    # An existing veth whose peer is named in the request implies nothing more.
    both = state(
        {"name": "v0", "type": "veth", "veth": {"peer": "v1"}}, {"name": "v1", "type": "veth"}
    )
    assert implied(both, BRIDGED) == {}


def test_missing_port_is_named() -> None:
    desired = state({"name": "br0", "bridge": {"port": [{"name": "eth9"}]}})
    with pytest.raises(InvalidArgument, match="br0: port eth9 does not exist"):
        with_implied(desired, BRIDGED)


def test_plan_input_resolves_types_of_implied_ports() -> None:
    desired = state({"name": "br0", "bridge": {"port": [{"name": "eth3"}]}})
    planned = {i.name: i.type for i in plan_input(desired, BRIDGED).interfaces}
    assert planned == {
        "br0": "linux-bridge",
        "eth3": "ethernet",
        "eth1": "ethernet",
        "eth2": "ethernet",
    }


# -- properties --------------------------------------------------------------------

NAMES = ["eth1", "eth2", "eth3", "eth4", "v0"]


def addresses(version: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    bits = 32 if version == 4 else 128
    ip = st.integers(min_value=1, max_value=2**bits - 2).map(
        lambda n: str(ipaddress.ip_address(n) if version == 4 else ipaddress.IPv6Address(n))
    )
    entry = st.fixed_dictionaries(
        {"ip": ip, "prefix-length": st.integers(min_value=1, max_value=bits)}
    )
    return st.lists(entry, max_size=3, unique_by=lambda a: a["ip"])


def ip_config(version: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.just({"enabled": False}),
        st.fixed_dictionaries({"enabled": st.just(True), "address": addresses(version)}),
    )


def interface(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": st.just(name), "type": st.just("ethernet")},
        optional={
            "state": st.sampled_from(["up", "down"]),
            "mtu": st.integers(min_value=68, max_value=9000),
            "mac-address": st.from_regex(r"\A([0-9a-f]{2}:){5}[0-9a-f]{2}\Z"),
            "ipv4": ip_config(4),
            "ipv6": ip_config(6),
        },
    )


def states(min_size: int = 0) -> st.SearchStrategy[NetworkState]:
    return st.lists(st.sampled_from(NAMES), min_size=min_size, unique=True).flatmap(
        lambda names: st.tuples(*(interface(n) for n in names)).map(lambda t: state(*t))
    )


@settings(max_examples=200, deadline=None)
@given(current=states(), desired=states())
def test_the_merged_state_satisfies_the_request(
    current: NetworkState, desired: NetworkState
) -> None:
    merged = merged_interfaces(desired, current)
    after = state(
        *[merged[i.name] if i.name in merged else i.to_dict() for i in current.interfaces],
        *[merged[i.name] for i in desired.interfaces if current.interface(i.name) is None],
    )
    assert verify.problems(desired, after) == []


@settings(max_examples=200, deadline=None)
@given(current=states(), desired=states())
def test_merge_never_touches_unlisted_interfaces(
    current: NetworkState, desired: NetworkState
) -> None:
    named = {i.name for i in desired.interfaces}
    assert set(merged_interfaces(desired, current)) == named
    # Plain interfaces imply nothing: no bridge ports, veth peers or children involved.
    assert implied_interfaces(desired, current) == []
    planned = plan_input(
        desired,
        state(
            *[i.to_dict() for i in current.interfaces],
            *[{"name": n, "type": "ethernet"} for n in named],
        ),
    )
    assert {i.name for i in planned.interfaces} == named


def test_loopback_cannot_go_absent() -> None:
    current = state({"name": "lo", "type": "loopback"})
    with pytest.raises(InvalidArgument, match=r"interfaces\[0\]: the loopback interface lo"):
        plan_input(state({"name": "lo", "state": "absent"}), current)


def test_loopback_cannot_go_down() -> None:
    current = state({"name": "lo", "type": "loopback"})
    with pytest.raises(InvalidArgument, match=r"interfaces\[0\]: .* lo cannot be taken down"):
        plan_input(state({"name": "lo", "state": "down"}), current)
    plan_input(state({"name": "lo", "state": "up"}), current)  # up is fine


def test_a_route_through_an_interface_that_does_not_exist_is_refused() -> None:
    current = state({"name": "eth1", "type": "ethernet"})
    desired = NetworkState.from_dict(
        {
            "interfaces": [{"name": "br9", "type": "linux-bridge"}],
            "routes": {
                "config": [
                    {"destination": "10.1.0.0/24", "next-hop-interface": "eth1"},
                    {"destination": "10.2.0.0/24", "next-hop-interface": "br9"},
                    {"destination": "10.3.0.0/24", "next-hop-interface": "nope0"},
                    {
                        "destination": "10.4.0.0/24",
                        "next-hop-interface": "gone0",
                        "state": "absent",
                    },
                ]
            },
        }
    )
    with pytest.raises(InvalidArgument) as raised:
        plan_input(desired, current)
    assert raised.value.message == (
        "routes.config[2]: next-hop-interface nope0 does not exist; nothing was changed"
    )


def test_an_existing_interface_cannot_change_type() -> None:
    current = state({"name": "eth1", "type": "ethernet"}, {"name": "v0", "type": "veth"})
    with pytest.raises(InvalidArgument, match=r"interfaces\[0\]: eth1 is of type ethernet"):
        plan_input(state({"name": "eth1", "type": "veth", "veth": {"peer": "p0"}}), current)
    plan_input(state({"name": "v0", "type": "ethernet"}), current)  # a veth is an ethernet

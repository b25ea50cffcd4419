"""Addresses obtained at run time: Show lists them with lifetimes, Apply ignores them."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any, cast

import pytest

from nmstated import diff, verify
from nmstated.backends.kernel import Address, Snapshot, link_from_msg
from nmstated.backends.networkmanager import settings
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.current import CurrentStateReader, ShowOptions
from nmstated.dynamic_addresses import without_dynamic_addresses
from nmstated.errors import InvalidArgument
from nmstated.model import IpAddress, IpConfig, NetworkState
from nmstated.schema import parse_state

LEASE = {
    "ip": "192.0.2.120",
    "prefix-length": 24,
    "valid-life-time": "3590sec",
    "preferred-life-time": "3590sec",
}
SLAAC = {
    "ip": "2001:db8:1::5",
    "prefix-length": 64,
    "valid-life-time": "86390sec",
    "preferred-life-time": "14390sec",
}
STATIC = {"ip": "198.51.100.7", "prefix-length": 24}


def state(*interfaces: dict[str, Any]) -> NetworkState:
    return NetworkState.from_dict({"interfaces": list(interfaces)})


def dhcp_now(*addresses: dict[str, Any]) -> NetworkState:
    """eth1 as Show has it with a lease: DHCP on, the lease listed with its lifetimes."""
    return state(
        {
            "name": "eth1",
            "type": "ethernet",
            "state": "up",
            "ipv4": {"enabled": True, "dhcp": True, "address": list(addresses)},
            "ipv6": {"enabled": True, "dhcp": True, "autoconf": True, "address": [SLAAC]},
        }
    )


# -- Show --------------------------------------------------------------------------------


def kernel_snapshot() -> Snapshot:
    link = link_from_msg(
        {
            "index": 2,
            "ifi_type": 1,
            "flags": 1,
            "attrs": [("IFLA_IFNAME", "eth1"), ("IFLA_MTU", 1500)],
        }
    )

    def address(ip: str, prefix: int, valid: int | None = None) -> Address:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        dynamic = valid is not None
        return Address(
            2, family, ip, prefix, 0, dynamic, 0 if dynamic else 0x80, None, None, valid, valid
        )

    return Snapshot(
        links={2: link},
        addresses=(
            address("192.0.2.120", 24, valid=3590),
            address("198.51.100.7", 24),
            address("2001:db8:1::5", 64, valid=86390),
        ),
        routes=(),
        rules=(),
    )


def show(running_config: bool) -> dict[str, Any]:
    async def kernel() -> Snapshot:
        return kernel_snapshot()

    # kernel-only: no NetworkManager is asked.
    reader = CurrentStateReader(cast(NetworkManagerClient, None), kernel)
    options = ShowOptions(kernel_only=True, running_config=running_config)
    return asyncio.run(reader.read_dict(options=options))


def test_show_lists_dynamic_addresses_with_lifetimes_static_ones_without() -> None:
    (iface,) = show(running_config=False)["interfaces"]
    assert iface["ipv4"]["address"] == [
        {
            "ip": "192.0.2.120",
            "prefix-length": 24,
            "valid-life-time": "3590sec",
            "preferred-life-time": "3590sec",
        },
        {"ip": "198.51.100.7", "prefix-length": 24},
    ]
    assert iface["ipv6"]["address"] == [
        {
            "ip": "2001:db8:1::5",
            "prefix-length": 64,
            "valid-life-time": "86390sec",
            "preferred-life-time": "86390sec",
        }
    ]


def test_running_config_leaves_dynamic_addresses_out() -> None:
    (iface,) = show(running_config=True)["interfaces"]
    assert iface["ipv4"]["address"] == [STATIC]
    assert iface["ipv6"] == {"enabled": True, "address": []}


def test_show_output_with_lifetimes_is_a_valid_apply_input() -> None:
    shown = show(running_config=False)
    assert parse_state(json.dumps(shown))["interfaces"][0]["ipv4"]["address"][0] == LEASE


@pytest.mark.parametrize("bad", ["3590", "3590 sec", "soon", "-1sec", ""])
def test_schema_refuses_a_malformed_lifetime(bad: str) -> None:
    iface = {"name": "eth1", "ipv4": {"address": [LEASE | {"valid-life-time": bad}]}}
    with pytest.raises(InvalidArgument, match=r"address\[0\]\.valid-life-time: a lifetime is"):
        parse_state(json.dumps({"interfaces": [iface]}))


# -- the model ---------------------------------------------------------------------------------


def test_lifetimes_round_trip_and_do_not_take_part_in_equality() -> None:
    ip = IpConfig.from_dict({"enabled": True, "dhcp": True, "address": [LEASE, STATIC]})
    assert ip.to_dict()["address"] == [LEASE, STATIC]
    leased, static = ip.addresses or ()
    assert leased.is_dynamic and not static.is_dynamic
    assert leased == IpAddress.parse("192.0.2.120", 24)
    assert ip.static_addresses == (static,)
    assert ip.dynamic_addresses == (leased,)
    forever = IpAddress.parse("192.0.2.1", 24, "forever", "forever")
    assert not forever.is_dynamic


# -- the apply rule -----------------------------------------------------------------------------


def test_dynamic_addresses_of_a_dhcp_family_are_ignored_with_one_note() -> None:
    desired = dhcp_now(LEASE)
    cleaned, notes = without_dynamic_addresses(desired, dhcp_now(LEASE))
    (iface,) = cleaned.interfaces
    assert iface.ipv4 is not None and iface.ipv4.addresses == ()
    assert iface.ipv6 is not None and iface.ipv6.addresses == ()
    assert iface.ipv4.dhcp is True and iface.ipv6.autoconf is True
    (note,) = notes
    assert note.startswith("eth1: ignoring ipv4 addresses 192.0.2.120/24: listed with a lifetime")
    assert "ignoring ipv6 addresses 2001:db8:1::5/64" in note


def test_static_addresses_next_to_dhcp_are_kept_without_lifetime_keys() -> None:
    """nmstate 2 keeps static addresses beside DHCP; a 'forever' lifetime is static."""
    forever = STATIC | {"valid-life-time": "forever", "preferred-life-time": "forever"}
    cleaned, notes = without_dynamic_addresses(dhcp_now(LEASE, forever), dhcp_now(LEASE, STATIC))
    (iface,) = cleaned.interfaces
    assert iface.ipv4 is not None
    assert iface.ipv4.to_dict()["address"] == [STATIC]
    assert len(notes) == 1 and "192.0.2.120/24" in notes[0] and "198.51.100.7" not in notes[0]


def test_a_state_without_lifetimes_is_left_alone() -> None:
    desired = state({"name": "eth1", "ipv4": {"enabled": True, "address": [STATIC]}})
    cleaned, notes = without_dynamic_addresses(desired, dhcp_now(LEASE))
    assert cleaned is desired and notes == []


def test_turning_dhcp_off_keeps_the_leased_address_as_a_static_one() -> None:
    """nmstate: a family going from DHCP to static with no address listed (or only
    dynamic ones) keeps its current addresses as static ones."""
    for listed in ({}, {"address": [LEASE]}):
        desired = state({"name": "eth1", "ipv4": {"enabled": True, "dhcp": False, **listed}})
        cleaned, notes = without_dynamic_addresses(desired, dhcp_now(LEASE))
        (iface,) = cleaned.interfaces
        assert iface.ipv4 is not None
        assert iface.ipv4.to_dict()["address"] == [{"ip": "192.0.2.120", "prefix-length": 24}]
        (note,) = notes
        assert "ipv4 is no longer dynamic" in note and "192.0.2.120/24" in note
    # A static address asked for wins; the lease is not kept.
    desired = state({"name": "eth1", "ipv4": {"enabled": True, "dhcp": False, "address": [STATIC]}})
    cleaned, notes = without_dynamic_addresses(desired, dhcp_now(LEASE))
    assert cleaned is desired and notes == []


def test_a_family_still_dynamic_is_not_made_static() -> None:
    # ipv6 without DHCPv6 still has autoconf: its addresses stay dynamic, and are ignored.
    desired = state({"name": "eth1", "ipv6": {"dhcp": False, "address": [SLAAC]}})
    cleaned, _ = without_dynamic_addresses(desired, dhcp_now(LEASE))
    (iface,) = cleaned.interfaces
    assert iface.ipv6 is not None and iface.ipv6.addresses == ()


def test_applying_shown_state_back_plans_and_verifies_nothing_new() -> None:
    """Every layer sees the cleaned request: no diff, no problems, no static address in NM."""
    current = dhcp_now(LEASE)
    cleaned, _ = without_dynamic_addresses(current, current)
    assert diff.diff(cleaned, current)["interfaces"] == []
    assert verify.problems(cleaned, current) == []
    (iface,) = cleaned.interfaces
    profile = settings.ipv4(iface.ipv4, None)
    assert profile["method"].value == "auto"
    assert profile["address-data"].value == []


def test_verify_never_expects_a_dynamic_address() -> None:
    """What a rollback must bring back is the current state, leases included: the lease
    is not expected (it comes back when the server answers), the static address is."""
    before = dhcp_now(LEASE, STATIC)
    now = dhcp_now(STATIC)
    assert verify.problems(before, now) == []
    gone = dhcp_now(LEASE)
    (problem,) = verify.problems(before, gone)
    assert "198.51.100.7/24" in problem and "192.0.2.120" not in problem.split("current")[0]

"""verify: harmless differences pass, real ones are named with desired vs current."""

from __future__ import annotations

from typing import Any

from nmstated import verify
from nmstated.model import NetworkState


def state(*interfaces: dict[str, Any]) -> NetworkState:
    return NetworkState.from_dict({"interfaces": list(interfaces)})


CURRENT = state(
    {
        "name": "eth1",
        "type": "veth",
        "state": "up",
        "mtu": 1500,
        "mac-address": "02:00:00:00:00:01",
        "ipv4": {
            "enabled": True,
            "address": [
                {"ip": "192.0.2.2", "prefix-length": 24},
                {"ip": "192.0.2.1", "prefix-length": 24},
            ],
        },
        "ipv6": {
            "enabled": True,
            "address": [
                {"ip": "2001:db8::1", "prefix-length": 64},
                {"ip": "fe80::1", "prefix-length": 64},
            ],
        },
    },
    {"name": "eth2", "type": "ethernet", "state": "down"},
)


def test_harmless_differences_pass() -> None:
    desired = state(
        {
            "name": "eth1",
            "type": "ethernet",  # the kernel calls it veth
            "mac-address": "02:00:00:00:00:01".lower(),
            "ipv4": {
                "enabled": True,
                "address": [  # other order
                    {"ip": "192.0.2.1", "prefix-length": 24},
                    {"ip": "192.0.2.2", "prefix-length": 24},
                ],
            },
            "ipv6": {  # other spelling, link-local not listed
                "enabled": True,
                "address": [{"ip": "2001:DB8:0:0::0:1", "prefix-length": 64}],
            },
        }
    )
    assert verify.problems(desired, CURRENT) == []


def test_mac_case_is_ignored() -> None:
    desired = state({"name": "eth1", "mac-address": "02:00:00:00:00:01".lower()})
    assert desired.interfaces[0].mac_address == "02:00:00:00:00:01".upper()
    assert verify.problems(desired, CURRENT) == []


def test_missing_address_is_named_with_both_values() -> None:
    desired = state(
        {
            "name": "eth1",
            "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.9", "prefix-length": 24}]},
        }
    )
    (problem,) = verify.problems(desired, CURRENT)
    assert problem.startswith("interfaces.eth1.ipv4.address: desired [192.0.2.9/24]")
    assert "current [192.0.2.1/24, 192.0.2.2/24]" in problem


def test_extra_addresses_allowed_only_when_asked() -> None:
    one = {"ip": "192.0.2.1", "prefix-length": 24}
    strict = state({"name": "eth1", "ipv4": {"enabled": True, "address": [one]}})
    lenient = state(
        {"name": "eth1", "ipv4": {"enabled": True, "allow-extra-address": True, "address": [one]}}
    )
    assert verify.problems(strict, CURRENT)
    assert verify.problems(lenient, CURRENT) == []


def test_mtu_state_and_type_mismatches() -> None:
    desired = state(
        {"name": "eth1", "type": "linux-bridge", "mtu": 9000}, {"name": "eth2", "state": "up"}
    )
    found = verify.problems(desired, CURRENT)
    assert "interfaces.eth1.type: desired linux-bridge, current veth" in found
    assert "interfaces.eth1.mtu: desired 9000, current 1500" in found
    assert "interfaces.eth2.state: desired up, current down" in found


def test_disabled_family_must_have_no_addresses() -> None:
    desired = state({"name": "eth1", "ipv4": {"enabled": False}})
    (problem,) = verify.problems(desired, CURRENT)
    assert problem.startswith("interfaces.eth1.ipv4.enabled: desired false")


def test_missing_and_absent_interfaces() -> None:
    assert verify.problems(state({"name": "eth9", "state": "up"}), CURRENT) == [
        "interfaces.eth9: desired up, but no such interface exists"
    ]
    assert verify.problems(state({"name": "eth9", "state": "absent"}), CURRENT) == []
    gone = state({"name": "eth1", "state": "absent"})
    assert verify.problems(gone, CURRENT) == [
        "interfaces.eth1: desired absent, but it still exists"
    ]


def test_dhcp_is_not_checked_against_kernel_addresses() -> None:
    desired = state({"name": "eth1", "ipv4": {"enabled": True, "dhcp": True}})
    assert verify.problems(desired, CURRENT) == []

"""The plan: what is removed, saved and brought up, in which order — without a bus."""

from __future__ import annotations

from typing import Any

import pytest
from dbus_fast import Variant

from nmstated.backends.networkmanager import settings
from nmstated.backends.networkmanager.client import Device, Settings
from nmstated.backends.networkmanager.features import NmFeatures
from nmstated.backends.networkmanager.plan import Action, Known, make_plan
from nmstated.backends.networkmanager.settings import ProfileInput
from nmstated.errors import InvalidArgument
from nmstated.model import Interface, NetworkState

NM = NmFeatures.from_version("1.42.4")
ETHERNET, VETH, BRIDGE = 1, 20, 13


def device(name: str, device_type: int = ETHERNET, active: bool = False) -> Device:
    return Device(
        path=f"/dev/{name}",
        name=name,
        state=100 if active else 30,
        managed=True,
        device_type=device_type,
        active_connection=f"/active/{name}" if active else "/",
        real=True,
    )


def profile(name: str, nm_type: str = "802-3-ethernet", **sections: Any) -> Settings:
    out: Settings = {
        "connection": {
            "id": Variant("s", name),
            "uuid": Variant("s", f"00000000-0000-0000-0000-{abs(hash(name)) % 10**12:012d}"),
            "type": Variant("s", nm_type),
            "interface-name": Variant("s", name),
        }
    }
    for section, values in sections.items():
        out[section] = {
            k: v if isinstance(v, Variant) else Variant("s", v) for k, v in values.items()
        }
    return out


def state(*interfaces: dict[str, Any], **sections: Any) -> NetworkState:
    return NetworkState.from_dict({"interfaces": list(interfaces), **sections})


NICS = {name: Known(device=device(name)) for name in ("eth1", "eth2", "eth3", "eth4")}


def names(steps: Any) -> list[str]:
    return [s.name for s in steps]


def test_controllers_before_ports_and_parents_before_children() -> None:
    desired = state(
        {"name": "vx0", "type": "vxlan", "vxlan": {"base-iface": "v0", "id": 5}},
        {"name": "eth1", "controller": "br0"},
        {
            "name": "br0",
            "type": "linux-bridge",
            "bridge": {"port": [{"name": "eth1"}, {"name": "eth2"}]},
        },
        {"name": "v0", "type": "veth", "veth": {"peer": "v1"}},
    )
    plan = make_plan(desired, NICS, NM)
    order = names(plan.steps)
    assert order.index("br0") < order.index("eth1") and order.index("br0") < order.index("eth2")
    assert order.index("v0") < order.index("vx0")
    assert plan.removals == ()


def test_ports_named_by_a_bridge_are_pulled_in_with_their_port_settings() -> None:
    desired = state(
        {
            "name": "br0",
            "type": "linux-bridge",
            "bridge": {"port": [{"name": "eth1", "stp-path-cost": 10}, {"name": "eth2"}]},
        }
    )
    plan = make_plan(desired, NICS, NM)
    assert names(plan.steps) == ["br0", "eth1", "eth2"]
    eth1 = settings.plain(plan.steps[1].settings)
    assert (eth1["connection"]["master"], eth1["connection"]["slave-type"]) == ("br0", "bridge")
    assert eth1["bridge-port"] == {"path-cost": 10}
    assert "ipv4" not in eth1
    assert all(s.action == Action.UP and s.path is None for s in plan.steps)


def test_interfaces_not_named_are_never_touched() -> None:
    plan = make_plan(state({"name": "eth1", "type": "ethernet", "mtu": 1400}), NICS, NM)
    assert names(plan.steps) == ["eth1"]


def test_a_detached_port_loses_its_controller() -> None:
    known = {
        **NICS,
        "eth2": Known(
            profiles=(
                (
                    "/p/eth2",
                    profile("eth2"),
                ),
            ),
            device=device("eth2", active=True),
            active_profile="/p/eth2",
        ),
        "br0": Known(
            profiles=(("/p/br0", profile("br0", "bridge")),), device=device("br0", BRIDGE, True)
        ),
    }
    known["eth2"].profiles[0][1]["connection"].update(
        {"master": Variant("s", "br0"), "slave-type": Variant("s", "bridge")}
    )
    plan = make_plan(state({"name": "eth2", "controller": ""}), known, NM)
    (step,) = plan.steps
    built = settings.plain(step.settings)
    assert "master" not in built["connection"] and step.changed and step.path == "/p/eth2"


def test_a_veth_going_absent_takes_its_peer_and_both_profiles() -> None:
    known = {
        "v0": Known(
            profiles=(("/p/v0", profile("v0", "veth", veth={"peer": "v1"})),),
            device=device("v0", VETH, True),
        ),
        "v1": Known(
            profiles=(("/p/v1", profile("v1", "veth", veth={"peer": "v0"})),),
            device=device("v1", VETH, True),
        ),
    }
    plan = make_plan(state({"name": "v0", "state": "absent"}), known, NM)
    assert [(r.name, r.profile_paths, r.delete_device) for r in plan.removals] == [
        ("v0", ("/p/v0",), True),
        ("v1", ("/p/v1",), True),
    ]
    assert plan.steps == ()


def test_children_are_removed_before_their_parent() -> None:
    known = {
        "eth1": Known(device=device("eth1")),
        "vx0": Known(
            profiles=(("/p/vx0", profile("vx0", "vxlan", vxlan={"parent": "v0"})),),
            device=device("vx0", 19, True),
        ),
        "v0": Known(
            profiles=(("/p/v0", profile("v0", "veth", veth={"peer": "v1"})),),
            device=device("v0", VETH, True),
        ),
    }
    plan = make_plan(
        state({"name": "v0", "state": "absent"}, {"name": "vx0", "state": "absent"}), known, NM
    )
    assert [r.name for r in plan.removals] == ["vx0", "v0", "v1"]
    # A NIC going absent loses its profile but is not deleted.
    nic = make_plan(state({"name": "eth1", "state": "absent"}), known, NM)
    assert [(r.name, r.delete_device) for r in nic.removals] == [("eth1", False)]


def test_one_profile_per_interface_the_active_one_is_kept_and_edited() -> None:
    kept = profile("eth1", ipv4={"method": "disabled"})
    kept["802-3-ethernet"] = {"wake-on-lan": Variant("u", 64)}
    known = {
        "eth1": Known(
            profiles=(("/p/active", kept), ("/p/other", profile("eth1-old"))),
            device=device("eth1", active=True),
            active_profile="/p/active",
        )
    }
    plan = make_plan(state({"name": "eth1", "type": "ethernet", "mtu": 1400}), known, NM)
    (step,) = plan.steps
    assert (step.path, step.duplicates) == ("/p/active", ("/p/other",))
    assert settings.plain(step.settings)["802-3-ethernet"] == {"wake-on-lan": 64, "mtu": 1400}


def test_a_state_that_already_holds_changes_no_profile() -> None:
    desired = state(
        {
            "name": "br0",
            "type": "linux-bridge",
            "bridge": {
                "options": {"stp": {"enabled": False}},
                "port": [{"name": "eth1", "stp-priority": 5}],
            },
            "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
        },
        routes={
            "config": [
                {
                    "destination": "198.51.100.0/24",
                    "next-hop-interface": "br0",
                    "next-hop-address": "192.0.2.254",
                }
            ]
        },
    )
    first = make_plan(desired, NICS, NM)
    # NetworkManager now has exactly what the first plan saved.
    known = {
        **NICS,
        **{
            s.name: Known(
                profiles=((f"/p/{s.name}", s.settings),), device=NICS.get(s.name, Known()).device
            )
            for s in first.steps
        },
    }
    again = make_plan(desired, known, NM)
    assert [(s.name, s.changed) for s in again.steps] == [("br0", False), ("eth1", False)]


def test_down_keeps_the_profile_without_autoconnect() -> None:
    known = {
        "eth1": Known(profiles=(("/p/eth1", profile("eth1")),), device=device("eth1", active=True))
    }
    (step,) = make_plan(state({"name": "eth1", "state": "down"}), known, NM).steps
    assert step.action == Action.DOWN
    assert settings.plain(step.settings)["connection"]["autoconnect"] is False


def test_an_interface_holding_changed_routes_is_pulled_in_as_profile_only() -> None:
    known = {
        "eth1": Known(
            profiles=(("/p/eth1", profile("eth1", ipv4={"method": "manual"})),),
            device=device("eth1", active=True),
        ),
        "eth2": Known(
            profiles=(("/p/eth2", profile("eth2", ipv4={"method": "manual"})),),
            device=device("eth2"),
        ),
    }
    desired = state(
        routes={"config": [{"destination": "10.0.0.0/8", "next-hop-interface": "eth2"}]}
    )
    (step,) = make_plan(desired, known, NM).steps
    assert (step.name, step.action, step.changed) == ("eth2", Action.PROFILE, True)
    assert settings.plain(step.settings)["ipv4"]["route-data"] == [
        {"dest": "10.0.0.0", "prefix": 8, "table": 254}
    ]


def test_dependencies_in_a_circle_are_refused() -> None:
    desired = state(
        {"name": "a0", "type": "vxlan", "vxlan": {"base-iface": "b0", "id": 1}},
        {"name": "b0", "type": "vxlan", "vxlan": {"base-iface": "a0", "id": 2}},
    )
    with pytest.raises(InvalidArgument, match="in a circle: a0 → b0 → a0"):
        make_plan(desired, {}, NM)


def test_profile_input_defaults_leave_routes_alone() -> None:
    existing = profile(
        "eth1",
        ipv4={
            "method": "manual",
            "route-data": Variant(
                "aa{sv}", [{"dest": Variant("s", "10.0.0.0"), "prefix": Variant("u", 8)}]
            ),
        },
    )
    built = settings.build(
        Interface(name="eth1", type="ethernet", mtu=1400), existing, ProfileInput(NM)
    )
    assert settings.plain(built)["ipv4"]["route-data"] == [{"dest": "10.0.0.0", "prefix": 8}]


def test_interfaces_that_already_hold_are_left_alone() -> None:
    """Applying Show's output back: details NetworkManager never saved are not written now."""
    running = profile("eth1", ipv4={"method": "manual"})
    known = {
        "eth1": Known(
            profiles=(("/p/eth1", running),),
            device=device("eth1", active=True),
            active_profile="/p/eth1",
        ),
        "eth2": Known(device=device("eth2")),
        "eth3": Known(profiles=(("/p/eth3", profile("eth3")),), device=device("eth3")),
    }
    shown = state(
        {
            "name": "eth1",
            "type": "ethernet",
            "state": "up",
            "mtu": 1500,
            "mac-address": "02:00:00:00:00:01",
        },
        {"name": "eth2", "type": "ethernet", "state": "down", "ipv4": {"enabled": False}},
        {"name": "eth3", "type": "ethernet", "state": "down", "mtu": 1500},
    )
    plan = make_plan(shown, known, NM, satisfied={"eth1", "eth2", "eth3"})
    assert [(s.name, s.changed) for s in plan.steps] == [("eth1", False), ("eth3", True)]
    # eth3 (down, with a profile) only loses autoconnect; its other settings stay as saved.
    eth3 = settings.plain(plan.steps[1].settings)
    assert eth3["connection"]["autoconnect"] is False and "802-3-ethernet" not in eth3
    # The same request for interfaces that do not hold yet is written in full.
    plan = make_plan(shown, known, NM)
    assert [(s.name, s.changed) for s in plan.steps] == [
        ("eth1", True),
        ("eth2", True),
        ("eth3", True),
    ]

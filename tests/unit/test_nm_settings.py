"""Model → NetworkManager settings: each type and setting against what NetworkManager expects."""

from __future__ import annotations

from typing import Any

import pytest
from dbus_fast import Variant

from nmstated.backends.networkmanager import settings
from nmstated.backends.networkmanager.client import unwrap
from nmstated.backends.networkmanager.features import NmFeatures
from nmstated.backends.networkmanager.settings import DETACHED, PortLink, ProfileInput
from nmstated.errors import NotImplementedByDaemon, NotSupported
from nmstated.model import Interface, Route, RouteRule

NM_1_42 = NmFeatures.from_version("1.42.4")
NM_1_46 = NmFeatures.from_version("1.46.0")
# NetworkManager's "infinity" (G_MAXINT32) for dhcp-timeout and ra-timeout.
INFINITY = 2147483647


def iface(**data: Any) -> Interface:
    return Interface.from_dict({"name": "eth1", "type": "ethernet", **data})


def build(
    interface: Interface,
    existing: settings.Settings | None = None,
    **given: Any,
) -> dict[str, dict[str, Any]]:
    given.setdefault("features", NM_1_42)
    built = settings.plain(settings.build(interface, existing, ProfileInput(**given)))
    if existing is None:
        # Fresh identity for a new profile: checked once here, then left out.
        assert built["connection"].pop("id") == interface.sections.get(
            "profile-name", interface.name
        )
        assert len(built["connection"].pop("uuid")) == 36
    return built


def values(updates: settings.Updates) -> dict[str, Any]:
    """A setting function's result without Variants (None, "remove", kept as None)."""
    return {k: None if v is None else unwrap(v) for k, v in updates.items()}


def test_new_static_ethernet_profile() -> None:
    built = build(
        iface(
            mtu=1400,
            **{"mac-address": "02:00:00:00:00:0a"},
            ipv4={"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
        )
    )
    assert built == {
        "connection": {"type": "802-3-ethernet", "interface-name": "eth1", "autoconnect": True},
        "802-3-ethernet": {"mtu": 1400, "assigned-mac-address": "02:00:00:00:00:0A"},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": "192.0.2.1", "prefix": 24}],
        },
        "ipv6": {"method": "disabled", "route-data": []},
    }


def test_profile_name_becomes_the_id() -> None:
    built = build(iface(**{"profile-name": "uplink"}))
    assert built["connection"]["interface-name"] == "eth1"


@pytest.mark.parametrize(
    ("ipv6", "method"),
    [
        ({"enabled": False}, "disabled"),
        ({"enabled": True, "dhcp": True, "autoconf": True}, "auto"),
        ({"enabled": True, "dhcp": True, "autoconf": False}, "dhcp"),
        ({"enabled": True, "address": [{"ip": "2001:db8::1", "prefix-length": 64}]}, "manual"),
        ({"enabled": True}, "link-local"),
    ],
)
def test_ipv6_methods(ipv6: dict[str, Any], method: str) -> None:
    assert build(iface(ipv6=ipv6))["ipv6"]["method"] == method


def test_ipv4_dhcp_with_every_auto_option() -> None:
    built = build(
        iface(
            ipv4={
                "enabled": True,
                "dhcp": True,
                "auto-dns": False,
                "auto-gateway": False,
                "auto-routes": False,
                "auto-route-table-id": 200,
                "auto-route-metric": 500,
            }
        )
    )
    assert built["ipv4"] == {
        "method": "auto",
        "ignore-auto-dns": True,
        "never-default": True,
        "ignore-auto-routes": True,
        "route-table": 200,
        "route-metric": 500,
        "dhcp-timeout": INFINITY,
    }


def test_ipv6_auto_options_and_addr_gen_mode() -> None:
    built = build(
        iface(
            ipv6={
                "enabled": True,
                "dhcp": True,
                "autoconf": True,
                "auto-dns": True,
                "addr-gen-mode": "eui64",
            }
        )
    )
    assert built["ipv6"] == {
        "method": "auto",
        "ignore-auto-dns": False,
        "dhcp-timeout": INFINITY,
        "ra-timeout": INFINITY,
        "addr-gen-mode": 0,
    }


@pytest.mark.parametrize(
    ("family", "config", "timeouts"),
    [
        ("ipv4", {"enabled": True, "dhcp": True}, {"dhcp-timeout": INFINITY}),
        (
            "ipv6",
            {"enabled": True, "dhcp": True, "autoconf": True},
            {"dhcp-timeout": INFINITY, "ra-timeout": INFINITY},
        ),
        (
            "ipv6",
            {"enabled": True, "dhcp": True, "autoconf": False},
            {"dhcp-timeout": INFINITY, "ra-timeout": INFINITY},
        ),
        ("ipv4", {"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]}, {}),
        ("ipv4", {"enabled": False}, {}),
        ("ipv6", {"enabled": True, "address": [{"ip": "2001:db8::1", "prefix-length": 64}]}, {}),
        ("ipv6", {"enabled": True}, {}),
        ("ipv6", {"enabled": False}, {}),
    ],
)
def test_dhcp_waits_forever_only_for_a_dynamic_family(
    family: str, config: dict[str, Any], timeouts: dict[str, int]
) -> None:
    """No lease yet never fails an activation (nmstate's choice); static families get no timeout."""
    built = build(iface(**{family: config}))[family]
    assert {k: v for k, v in built.items() if k.endswith("-timeout")} == timeouts


def test_going_static_removes_the_dhcp_timeout() -> None:
    dynamic = build(
        iface(ipv4={"enabled": True, "dhcp": True}, ipv6={"enabled": True, "dhcp": True})
    )
    assert dynamic["ipv4"]["dhcp-timeout"] == dynamic["ipv6"]["ra-timeout"] == INFINITY
    static = settings.plain(
        settings.build(
            iface(
                ipv4={
                    "enabled": True,
                    "dhcp": False,
                    "address": [{"ip": "192.0.2.1", "prefix-length": 24}],
                },
                ipv6={"enabled": False},
            ),
            _wrap(dynamic),
            ProfileInput(NM_1_42),
        )
    )
    assert static["ipv4"]["method"] == "manual" and static["ipv6"]["method"] == "disabled"
    assert not any(key.endswith("-timeout") for key in (*static["ipv4"], *static["ipv6"]))


@pytest.mark.parametrize(
    ("ipv4", "ipv6", "dynamic"),
    [
        ("auto", "disabled", {4}),
        ("auto", "auto", {4, 6}),
        ("disabled", "dhcp", {6}),
        ("manual", "link-local", set()),
        (None, None, set()),  # a port: no IP settings at all
    ],
)
def test_dynamic_families_of_a_profile(
    ipv4: str | None, ipv6: str | None, dynamic: set[int]
) -> None:
    profile: settings.Settings = {"connection": {"id": Variant("s", "eth1")}}
    for name, method in (("ipv4", ipv4), ("ipv6", ipv6)):
        if method is not None:
            profile[name] = {"method": Variant("s", method)}
    assert settings.dynamic_families(profile) == dynamic


def test_auto_options_are_not_written_for_static_configuration() -> None:
    built = build(
        iface(
            ipv4={
                "enabled": True,
                "dhcp": False,
                "auto-dns": False,
                "address": [{"ip": "192.0.2.1", "prefix-length": 24}],
            }
        )
    )
    assert "ignore-auto-dns" not in built["ipv4"]


def test_omitted_ip_keys_keep_the_profile_values() -> None:
    """nmstate merges the current state: ``{enabled: true}`` alone keeps DHCP or addresses."""
    dhcp = {"ipv4": {"method": Variant("s", "auto")}}
    static = {
        "ipv4": {
            "method": Variant("s", "manual"),
            "address-data": Variant(
                "aa{sv}", [{"address": Variant("s", "192.0.2.5"), "prefix": Variant("u", 24)}]
            ),
        }
    }
    wanted = iface(ipv4={"enabled": True})
    assert values(settings.ipv4(wanted.ipv4, dhcp["ipv4"])) == {
        "method": "auto",
        "dhcp-timeout": INFINITY,
    }
    assert values(settings.ipv4(wanted.ipv4, static["ipv4"])) == {
        "method": "manual",
        "dhcp-timeout": None,
    }


def test_disabled_family_drops_addresses_routes_and_rules() -> None:
    existing = build(
        iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]}),
        routes={
            4: (Route.from_dict({"destination": "198.51.100.0/24", "next-hop-interface": "eth1"}),)
        },
        rules={4: (RouteRule.from_dict({"ip-from": "192.0.2.0/24", "route-table": 100}),)},
    )
    assert existing["ipv4"]["route-data"] and existing["ipv4"]["routing-rules"]
    off = settings.build(
        iface(ipv4={"enabled": False}),
        _wrap(existing),
        ProfileInput(NM_1_42),
    )
    ipv4 = settings.plain(off)["ipv4"]
    assert ipv4["method"] == "disabled"
    assert ipv4["address-data"] == [] and ipv4["route-data"] == []
    assert "routing-rules" not in ipv4


def _wrap(plain: dict[str, dict[str, Any]]) -> settings.Settings:
    """Rebuild Variants for plain test data (only the shapes used here)."""
    signatures = {
        "address-data": "aa{sv}",
        "route-data": "aa{sv}",
        "routing-rules": "aa{sv}",
    }
    out: settings.Settings = {}
    for name, values in plain.items():
        out[name] = {}
        for key, value in values.items():
            if key in signatures:
                out[name][key] = Variant(
                    signatures[key], [{k: _guess(v) for k, v in e.items()} for e in value]
                )
            else:
                out[name][key] = _guess(value)
    out["connection"]["id"] = Variant("s", "eth1")
    out["connection"]["uuid"] = Variant("s", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    return out


def _guess(value: Any) -> Variant:
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        return Variant("u", value)
    if isinstance(value, list):
        return Variant("as", value)
    return Variant("s", value)


def test_existing_profile_keeps_what_we_do_not_model() -> None:
    existing = {
        "connection": {
            "id": Variant("s", "office"),
            "uuid": Variant("s", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            "type": Variant("s", "802-3-ethernet"),
            "interface-name": Variant("s", "eth1"),
            "zone": Variant("s", "trusted"),
        },
        "ipv4": {
            "method": Variant("s", "manual"),
            "addresses": Variant("aau", [[1, 24, 0]]),
            "dns-search": Variant("as", ["example.org"]),
        },
        "802-3-ethernet": {"wake-on-lan": Variant("u", 64)},
    }
    desired = iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.7", "prefix-length": 24}]})
    built = settings.plain(settings.build(desired, existing, ProfileInput(NM_1_42)))
    assert built["connection"]["id"] == "office"
    assert built["connection"]["uuid"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert built["connection"]["zone"] == "trusted"
    assert built["ipv4"]["dns-search"] == ["example.org"]
    assert "addresses" not in built["ipv4"]  # the legacy key would contradict address-data
    assert built["802-3-ethernet"] == {"wake-on-lan": 64}


def test_rebuilding_an_applied_profile_changes_nothing() -> None:
    desired = iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.7", "prefix-length": 24}]})
    first = settings.build(desired, None, ProfileInput(NM_1_42))
    again = settings.build(desired, first, ProfileInput(NM_1_42))
    assert settings.plain(again) == settings.plain(first)
    assert settings.same(again, first)


def test_same_fills_in_what_getsettings_leaves_out() -> None:
    """GetSettings omits defaults; a profile asking for them is still the same profile."""
    saved = {
        "connection": {"id": Variant("s", "br0"), "type": Variant("s", "bridge")},
        "bridge": {"forward-delay": Variant("u", 10)},
        "ipv4": {"addresses": Variant("aau", []), "method": Variant("s", "disabled")},
    }
    wanted = {
        "connection": {
            "id": Variant("s", "br0"),
            "type": Variant("s", "bridge"),
            "autoconnect": Variant("b", True),
        },
        "bridge": {
            "forward-delay": Variant("u", 10),
            "stp": Variant("b", True),
            "vlan-filtering": Variant("b", False),
        },
        "ipv4": {"method": Variant("s", "disabled"), "route-data": Variant("aa{sv}", [])},
        "802-3-ethernet": {},
    }
    assert settings.same(wanted, saved)
    wanted["bridge"]["stp"] = Variant("b", False)
    assert not settings.same(wanted, saved)


def test_veth_peer_and_a_nic_that_is_a_veth_inside() -> None:
    built = build(Interface.from_dict({"name": "v0", "type": "veth", "veth": {"peer": "v1"}}))
    assert built["connection"]["type"] == "veth"
    assert built["veth"] == {"peer": "v1"}
    # The kernel calls the sandbox NICs veth; without a peer they get an ethernet profile.
    nic = build(Interface.from_dict({"name": "eth1", "type": "veth"}))
    assert nic["connection"]["type"] == "802-3-ethernet"
    assert "veth" not in nic


def test_linux_bridge_options_in_networkmanager_units() -> None:
    bridge = Interface.from_dict(
        {
            "name": "br0",
            "type": "linux-bridge",
            "mtu": 1450,
            "bridge": {
                "options": {
                    "stp": {
                        "enabled": True,
                        "forward-delay": 10,
                        "hello-time": 3,
                        "max-age": 25,
                        "priority": 4096,
                    },
                    "mac-ageing-time": 120,
                    "group-forward-mask": 8,
                    "group-addr": "01:80:c2:00:00:08",
                    "hash-max": 1024,
                    "multicast-snooping": False,
                    "multicast-router": "enabled",
                    "multicast-query-interval": 9000,
                    "vlan-protocol": "802.1ad",
                    "hash-elasticity": 16,  # shown by the kernel, not settable: ignored
                },
                "port": [{"name": "eth1"}],
            },
        }
    )
    built = build(bridge)
    assert built["connection"]["type"] == "bridge"
    assert built["802-3-ethernet"] == {"mtu": 1450}
    assert built["bridge"] == {
        "stp": True,
        "forward-delay": 10,
        "hello-time": 3,
        "max-age": 25,
        "priority": 4096,
        "ageing-time": 120,
        "group-forward-mask": 8,
        "group-address": bytes([0x01, 0x80, 0xC2, 0x00, 0x00, 0x08]),
        "multicast-hash-max": 1024,
        "multicast-snooping": False,
        "multicast-router": "enabled",
        "multicast-query-interval": 9000,
        "vlan-protocol": "802.1ad",
        "vlan-filtering": False,
    }
    interval = settings.bridge(bridge)["multicast-query-interval"]
    assert interval is not None and interval.signature == "t"


def test_bridge_port_with_stp_settings_attaches_with_master_on_1_42() -> None:
    port = BRIDGE_WITH_VLANS.bridge.port("eth1") if BRIDGE_WITH_VLANS.bridge else None
    assert port is not None
    built = build(
        Interface(name="eth1", type="ethernet"),
        port=PortLink("br0", "bridge", port),
    )
    assert built == {
        "connection": {
            "type": "802-3-ethernet",
            "interface-name": "eth1",
            "autoconnect": True,
            "master": "br0",
            "slave-type": "bridge",
        },
        "802-3-ethernet": {},
        "bridge-port": {
            "priority": 20,
            "path-cost": 10,
            "hairpin-mode": True,
            "vlans": [
                {"vid-start": 100, "vid-end": 199, "pvid": False, "untagged": False},
                {"vid-start": 300, "vid-end": 300, "pvid": False, "untagged": False},
                {"vid-start": 5, "vid-end": 5, "pvid": True, "untagged": True},
            ],
        },
    }


def test_newer_networkmanager_gets_controller_and_port_type() -> None:
    built = build(
        Interface(name="eth1", type="ethernet"), port=PortLink("br0", "bridge"), features=NM_1_46
    )
    assert built["connection"]["controller"] == "br0"
    assert built["connection"]["port-type"] == "bridge"
    assert "master" not in built["connection"]


BRIDGE_WITH_VLANS = Interface.from_dict(
    {
        "name": "br0",
        "type": "linux-bridge",
        "bridge": {
            "options": {"vlan-default-pvid": 1},
            "port": [
                {
                    "name": "eth1",
                    "stp-priority": 20,
                    "stp-path-cost": 10,
                    "stp-hairpin-mode": True,
                    "vlan": {
                        "mode": "trunk",
                        "enable-native": True,
                        "tag": 5,
                        "trunk-tags": [{"id-range": {"min": 100, "max": 199}}, {"id": 300}],
                    },
                },
                {"name": "eth2", "vlan": {"mode": "access", "tag": 100}},
            ],
        },
    }
)


def test_vlan_filtering_follows_port_vlans() -> None:
    built = build(BRIDGE_WITH_VLANS)
    assert built["bridge"] == {"vlan-default-pvid": 1, "vlan-filtering": True}
    access = BRIDGE_WITH_VLANS.bridge.port("eth2") if BRIDGE_WITH_VLANS.bridge else None
    assert access is not None and access.vlan is not None
    assert unwrap(settings.port_vlans(access.vlan)) == [
        {"vid-start": 100, "vid-end": 100, "pvid": True, "untagged": True}
    ]


def test_detaching_a_port_removes_controller_and_bridge_port() -> None:
    attached = {
        "connection": {
            "id": Variant("s", "eth2"),
            "uuid": Variant("s", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            "type": Variant("s", "802-3-ethernet"),
            "interface-name": Variant("s", "eth2"),
            "master": Variant("s", "br0"),
            "slave-type": Variant("s", "bridge"),
        },
        "bridge-port": {"path-cost": Variant("u", 10)},
    }
    built = settings.plain(
        settings.build(Interface(name="eth2"), attached, ProfileInput(NM_1_42, port=DETACHED))
    )
    assert "master" not in built["connection"] and "slave-type" not in built["connection"]
    assert "bridge-port" not in built
    assert built["ipv4"]["method"] == "disabled" and built["ipv6"]["method"] == "disabled"


def test_a_port_has_no_ip_settings() -> None:
    built = build(
        iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]}),
        port=PortLink("bond0", "bond"),
    )
    assert "ipv4" not in built and "ipv6" not in built and "bridge-port" not in built
    assert built["connection"]["slave-type"] == "bond"


def test_vxlan() -> None:
    built = build(
        Interface.from_dict(
            {
                "name": "vxlan10",
                "type": "vxlan",
                "mtu": 1400,
                "vxlan": {
                    "base-iface": "eth1",
                    "id": 10,
                    "remote": "2001:DB8::2",
                    "local": "",
                    "destination-port": 4789,
                    "learning": False,
                },
            }
        )
    )
    assert built["connection"]["type"] == "vxlan"
    assert built["802-3-ethernet"] == {"mtu": 1400}
    assert built["vxlan"] == {
        "parent": "eth1",
        "id": 10,
        "remote": "2001:db8::2",
        "destination-port": 4789,
        "learning": False,
    }


def test_mac_vlan() -> None:
    built = build(
        Interface.from_dict(
            {
                "name": "mv0",
                "type": "mac-vlan",
                "mac-vlan": {"base-iface": "eth1", "mode": "passthru", "promiscuous": False},
            }
        )
    )
    assert built["connection"]["type"] == "macvlan"
    assert built["macvlan"] == {"parent": "eth1", "mode": 4, "promiscuous": False}


def test_vlan() -> None:
    built = build(
        Interface.from_dict(
            {
                "name": "eth1.10",
                "type": "vlan",
                "mtu": 1496,
                "vlan": {"base-iface": "eth1", "id": 10, "protocol": "802.1ad"},
                "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
            }
        )
    )
    assert built["connection"] == {
        "type": "vlan",
        "interface-name": "eth1.10",
        "autoconnect": True,
    }
    assert built["vlan"] == {"parent": "eth1", "id": 10, "protocol": "802.1ad"}
    assert built["802-3-ethernet"] == {"mtu": 1496}
    assert built["ipv4"]["method"] == "manual"


def test_bond() -> None:
    built = build(
        Interface.from_dict(
            {
                "name": "bond0",
                "type": "bond",
                "link-aggregation": {
                    "mode": "802.3ad",
                    "options": {"miimon": 100, "lacp_rate": "fast", "use_carrier": True},
                    "port": ["eth1", "eth2"],
                },
            }
        )
    )
    assert built["connection"]["type"] == "bond"
    assert built["bond"] == {
        "options": {"mode": "802.3ad", "miimon": "100", "lacp_rate": "fast", "use_carrier": "1"}
    }


def test_bond_options_of_another_mode_do_not_carry_over() -> None:
    existing = {"options": Variant("a{ss}", {"mode": "802.3ad", "lacp_rate": "fast"})}
    same_mode = Interface.from_dict(
        {"name": "bond0", "type": "bond", "link-aggregation": {"options": {"miimon": 50}}}
    )
    other_mode = Interface.from_dict(
        {"name": "bond0", "type": "bond", "link-aggregation": {"mode": "active-backup"}}
    )
    assert same_mode.bond is not None and other_mode.bond is not None
    assert values(settings.bond(same_mode.bond, existing)) == {
        "options": {"mode": "802.3ad", "lacp_rate": "fast", "miimon": "50"}
    }
    assert values(settings.bond(other_mode.bond, existing)) == {
        "options": {"mode": "active-backup"}
    }


def test_dummy() -> None:
    built = build(
        Interface.from_dict(
            {"name": "dummy0", "type": "dummy", "mtu": 9000, "ipv6": {"enabled": False}}
        )
    )
    assert built == {
        "connection": {"type": "dummy", "interface-name": "dummy0", "autoconnect": True},
        "dummy": {},
        "802-3-ethernet": {"mtu": 9000},
        "ipv4": {"method": "disabled", "route-data": []},
        "ipv6": {"method": "disabled", "address-data": [], "route-data": []},
    }


def test_vrf_and_its_ports() -> None:
    built = build(
        Interface.from_dict(
            {"name": "vrf0", "type": "vrf", "vrf": {"route-table-id": 100, "port": ["eth1"]}}
        )
    )
    assert built["connection"]["type"] == "vrf"
    assert built["vrf"] == {"table": 100}
    assert "802-3-ethernet" not in built
    port = build(Interface(name="eth1", type="ethernet"), port=PortLink("vrf0", "vrf"))
    assert (port["connection"]["master"], port["connection"]["slave-type"]) == ("vrf0", "vrf")
    with pytest.raises(NotSupported, match="vrf0: NetworkManager cannot set the MTU"):
        build(Interface.from_dict({"name": "vrf0", "type": "vrf", "mtu": 1400}))


def test_loopback_mtu_lives_in_its_own_setting() -> None:
    built = build(
        Interface.from_dict(
            {
                "name": "lo",
                "type": "loopback",
                "mtu": 65536,
                "ipv4": {"enabled": True, "address": [{"ip": "127.0.0.1", "prefix-length": 8}]},
            }
        )
    )
    assert built["connection"]["type"] == "loopback"
    assert built["loopback"] == {"mtu": 65536}
    assert "802-3-ethernet" not in built


def test_routes_and_rules_go_into_route_data_and_routing_rules() -> None:
    route = Route.from_dict(
        {
            "destination": "198.51.100.7/24",
            "next-hop-interface": "eth1",
            "next-hop-address": "192.0.2.1",
            "metric": 150,
            "table-id": 100,
        }
    )
    rule = RouteRule.from_dict({"ip-from": "192.0.2.0/24", "priority": 1000, "route-table": 100})
    built = build(
        iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.2", "prefix-length": 24}]}),
        routes={4: (route,)},
        rules={4: (rule,)},
    )
    assert built["ipv4"]["route-data"] == [
        {"dest": "198.51.100.0", "prefix": 24, "table": 100, "next-hop": "192.0.2.1", "metric": 150}
    ]
    assert built["ipv4"]["routing-rules"] == [
        {"family": 2, "priority": 1000, "from": "192.0.2.0", "from-len": 24, "table": 100}
    ]


def test_types_not_applied_say_so() -> None:
    with pytest.raises(NotImplementedByDaemon, match="tun0: interfaces of type tun"):
        build(Interface.from_dict({"name": "tun0", "type": "tun"}))


def test_features_from_version() -> None:
    assert NM_1_42.version == (1, 42, 4)
    assert (NM_1_42.controller_key, NM_1_42.port_type_key) == ("master", "slave-type")
    assert (NM_1_46.controller_key, NM_1_46.port_type_key) == ("controller", "port-type")
    assert NmFeatures.from_version("1.50.0-dev").version == (1, 50, 0)


def test_description_lldp_and_link_settings() -> None:
    built = build(
        iface(
            description="uplink to rack 4",
            lldp={"enabled": True},
            **{"accept-all-mac-addresses": True},
            ethernet={"auto-negotiation": False, "speed": 1000, "duplex": "full"},
        )
    )
    assert built["connection"]["lldp"] == 1
    assert built["user"] == {"data": {"nmstate.interface.description": "uplink to rack 4"}}
    assert built["802-3-ethernet"] == {
        "accept-all-mac-addresses": 1,
        "auto-negotiate": False,
        "speed": 1000,
        "duplex": "full",
    }
    # Other user data survives; an empty description removes ours.
    existing = {"data": Variant("a{ss}", {"other.key": "x", settings.DESCRIPTION_KEY: "old"})}
    assert values(settings.user(iface(description=""), existing)) == {"data": {"other.key": "x"}}

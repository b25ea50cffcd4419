"""verify for bridges, virtual links, routes, rules, DNS and hostname, after normalisation."""

from __future__ import annotations

from typing import Any

from nmstated import diff, verify
from nmstated.model import Interface, NetworkState


def state(*interfaces: dict[str, Any], **sections: Any) -> NetworkState:
    return NetworkState.from_dict(
        {"interfaces": list(interfaces), **{k.replace("_", "-"): v for k, v in sections.items()}}
    )


BRIDGE_NOW = {
    "name": "br0",
    "type": "linux-bridge",
    "state": "up",
    "mac-address": "02:00:00:00:00:0A",
    "bridge": {
        "options": {
            "group-addr": "01:80:C2:00:00:00",
            "mac-ageing-time": 120,
            "multicast-router": "auto",
            "stp": {"enabled": True, "forward-delay": 10, "hello-time": 3, "max-age": 25},
        },
        "port": [
            {"name": "eth1", "stp-path-cost": 10, "stp-priority": 20, "stp-hairpin-mode": False},
            {"name": "eth2", "stp-path-cost": 100, "stp-priority": 32, "stp-hairpin-mode": True},
        ],
    },
}
ROUTES_NOW = {
    "config": [
        {
            "destination": "198.51.100.0/24",
            "next-hop-interface": "eth1",
            "next-hop-address": "192.0.2.1",
            "metric": 150,
            "table-id": 254,
        },
        {
            "destination": "2001:db8:2::/64",
            "next-hop-interface": "eth1",
            "next-hop-address": "2001:db8:1::1",
            "metric": 1024,
            "table-id": 100,
        },
    ]
}
RULES_NOW = {
    "config": [
        {"family": "ipv4", "ip-from": "192.0.2.0/24", "priority": 1000, "route-table": 100},
        {"family": "ipv4", "ip-to": "10.0.0.0/8", "priority": 30000, "route-table": 254},
    ]
}
CURRENT = state(
    BRIDGE_NOW,
    {"name": "eth1", "type": "ethernet", "state": "up", "controller": "br0"},
    {
        "name": "vx0",
        "type": "vxlan",
        "state": "up",
        "vxlan": {"base-iface": "v0", "id": 10, "remote": "2001:db8::2", "destination-port": 4789},
    },
    {
        "name": "mv0",
        "type": "mac-vlan",
        "state": "up",
        "mac-vlan": {"base-iface": "v0", "mode": "bridge", "promiscuous": True},
    },
    routes=ROUTES_NOW,
    route_rules=RULES_NOW,
    dns_resolver={"config": {"server": ["192.0.2.53", "2001:db8::53"], "search": ["example.org"]}},
    hostname={"config": "saved", "running": "box-one"},
)


def test_bridge_subset_passes_with_other_spellings_and_port_order() -> None:
    desired = state(
        {
            "name": "br0",
            "mac-address": "02:00:00:00:00:0a",
            "bridge": {
                "options": {
                    "group-addr": "01:80:c2:00:00:00",
                    "multicast-router": 1,
                    "stp": {"forward-delay": 10},
                },
                "port": [{"name": "eth2", "stp-hairpin-mode": True}, {"name": "eth1"}],
            },
        }
    )
    assert verify.problems(desired, CURRENT) == []


def test_bridge_differences_are_named() -> None:
    desired = state(
        {
            "name": "br0",
            "bridge": {
                "options": {"mac-ageing-time": 300, "stp": {"hello-time": 2}},
                "port": [{"name": "eth1", "stp-path-cost": 5}],
            },
        }
    )
    assert verify.problems(desired, CURRENT) == [
        "interfaces.br0.bridge.options.mac-ageing-time: desired 300, current 120",
        "interfaces.br0.bridge.options.stp.hello-time: desired 2, current 3",
        "interfaces.br0.bridge.port: desired [eth1], current [eth1, eth2]",
        "interfaces.br0.bridge.port.eth1.stp-path-cost: desired 5, current 10",
    ]


def test_port_vlans_compare_as_sets_of_ids() -> None:
    now = state(
        {
            "name": "br0",
            "type": "linux-bridge",
            "state": "up",
            "bridge": {
                "port": [
                    {
                        "name": "eth1",
                        "vlan": {
                            "mode": "trunk",
                            "trunk-tags": [{"id": 100}, {"id-range": {"min": 101, "max": 199}}],
                        },
                    }
                ]
            },
        }
    )
    same = state(
        {
            "name": "br0",
            "bridge": {
                "port": [
                    {
                        "name": "eth1",
                        "vlan": {
                            "mode": "trunk",
                            "trunk-tags": [{"id-range": {"min": 100, "max": 199}}],
                        },
                    }
                ]
            },
        }
    )
    assert verify.problems(same, now) == []
    missing = state(
        {
            "name": "br0",
            "bridge": {
                "port": [
                    {
                        "name": "eth1",
                        "vlan": {
                            "mode": "trunk",
                            "trunk-tags": [{"id-range": {"min": 100, "max": 300}}],
                        },
                    }
                ]
            },
        }
    )
    (problem,) = verify.problems(missing, now)
    assert (
        problem
        == "interfaces.br0.bridge.port.eth1.vlan.trunk-tags: desired [100-300], current [100-199]"
    )
    no_vlans_now = state(
        {
            "name": "br0",
            "type": "linux-bridge",
            "state": "up",
            "bridge": {"port": [{"name": "eth1"}]},
        }
    )
    assert verify.problems(same, no_vlans_now)


def test_controller_and_detached_ports() -> None:
    assert verify.problems(state({"name": "eth1", "controller": "br0"}), CURRENT) == []
    assert verify.problems(state({"name": "eth1", "controller": ""}), CURRENT) == [
        "interfaces.eth1.controller: desired none, current br0"
    ]


def test_vxlan_and_mac_vlan() -> None:
    ok = state(
        {"name": "vx0", "vxlan": {"base-iface": "v0", "id": 10, "remote": "2001:DB8::2"}},
        {"name": "mv0", "mac-vlan": {"mode": "bridge", "promiscuous": True}},
    )
    assert verify.problems(ok, CURRENT) == []
    wrong = state(
        {"name": "vx0", "vxlan": {"id": 11, "local": ""}},
        {"name": "mv0", "mac-vlan": {"mode": "vepa"}},
    )
    assert verify.problems(wrong, CURRENT) == [
        "interfaces.vx0.vxlan.id: desired 11, current 10",
        "interfaces.mv0.mac-vlan.mode: desired vepa, current bridge",
    ]


def test_vlan_bond_vrf_defaults_and_sets() -> None:
    now = state(
        {
            "name": "eth1.10",
            "type": "vlan",
            "state": "up",
            "vlan": {"base-iface": "eth1", "id": 10},
        },
        {
            "name": "bond0",
            "type": "bond",
            "state": "up",
            "link-aggregation": {
                "mode": "802.3ad",
                "options": {"miimon": 100, "use_carrier": True},
                "port": ["eth2", "eth3"],
            },
        },
        {
            "name": "vrf0",
            "type": "vrf",
            "state": "up",
            "vrf": {"route-table-id": 100, "port": ["eth4"]},
        },
    )
    desired = state(
        {"name": "eth1.10", "vlan": {"protocol": "802.1q"}},
        {
            "name": "bond0",
            "link-aggregation": {
                "options": {"miimon": "100", "use_carrier": 1},
                "port": ["eth3", "eth2"],
            },
        },
        {"name": "vrf0", "vrf": {"route-table-id": 100, "port": ["eth4"]}},
    )
    assert verify.problems(desired, now) == []
    assert verify.problems(state({"name": "vrf0", "vrf": {"port": []}}), now) == [
        "interfaces.vrf0.vrf.port: desired none, current [eth4]"
    ]


def test_auto_options_compare_with_nmstate_defaults() -> None:
    now = state(
        {
            "name": "eth1",
            "type": "ethernet",
            "state": "up",
            "ipv4": {
                "enabled": True,
                "dhcp": True,
                "address": [{"ip": "192.0.2.50", "prefix-length": 24}],
            },
        }
    )
    defaults = state(
        {
            "name": "eth1",
            "ipv4": {"enabled": True, "dhcp": True, "auto-dns": True, "auto-route-table-id": 0},
        }
    )
    assert verify.problems(defaults, now) == []
    custom = state({"name": "eth1", "ipv4": {"enabled": True, "dhcp": True, "auto-gateway": False}})
    assert verify.problems(custom, now) == [
        "interfaces.eth1.ipv4.auto-gateway: desired false, current true"
    ]
    static = state({"name": "eth1", "ipv4": {"enabled": True, "dhcp": False}})
    assert verify.problems(static, now) == [
        "interfaces.eth1.ipv4.dhcp: desired false, current true"
    ]


def test_routes_match_with_defaults_filled_in() -> None:
    desired = state(
        routes={
            "config": [
                # main table and any metric when not given; IPv6 metric 0 is the kernel's 1024
                {
                    "destination": "198.51.100.7/24",
                    "next-hop-interface": "eth1",
                    "next-hop-address": "192.0.2.1",
                },
                {
                    "destination": "2001:DB8:2::/64",
                    "next-hop-interface": "eth1",
                    "table-id": 100,
                    "metric": 0,
                },
            ]
        }
    )
    assert verify.problems(desired, CURRENT) == []
    wrong_table = state(
        routes={
            "config": [
                {"destination": "198.51.100.0/24", "next-hop-interface": "eth1", "table-id": 100}
            ]
        }
    )
    (problem,) = verify.problems(wrong_table, CURRENT)
    assert problem.startswith(
        "routes.config[0]: desired {destination: 198.51.100.0/24, next-hop-interface: eth1, "
        "table-id: 100}, current {destination: 198.51.100.0/24"
    )


def test_absent_routes_must_be_gone_but_other_listed_routes_may_stay() -> None:
    gone = state(
        routes={"config": [{"state": "absent", "next-hop-interface": "eth1", "table-id": 100}]}
    )
    (problem,) = verify.problems(gone, CURRENT)
    assert problem.startswith(
        "routes.config[0]: desired absent {state: absent, next-hop-interface: eth1"
    )
    assert "2001:db8:2::/64" in problem and "198.51.100.0/24" not in problem
    relisted = state(
        routes={
            "config": [
                {"state": "absent", "next-hop-interface": "eth1"},
                ROUTES_NOW["config"][0],
                ROUTES_NOW["config"][1],
            ]
        }
    )
    assert verify.problems(relisted, CURRENT) == []


def test_routes_through_an_absent_interface_fail() -> None:
    desired = state({"name": "eth1", "state": "absent"}, routes={"config": []})
    found = verify.problems(desired, CURRENT)
    assert any(p.startswith("routes.config: desired none via eth1 (absent)") for p in found)


def test_rules_with_default_priority_and_table() -> None:
    desired = state(
        route_rules={
            "config": [
                {"ip-to": "10.0.0.0/8"},
                {"ip-from": "192.0.2.0/24", "priority": 1000, "route-table": 100},
            ]
        }
    )
    assert verify.problems(desired, CURRENT) == []
    other_table = state(
        route_rules={"config": [{"ip-from": "192.0.2.0/24", "priority": 1000, "route-table": 200}]}
    )
    (problem,) = verify.problems(other_table, CURRENT)
    assert problem == (
        "route-rules.config[0]: desired {family: ipv4, ip-from: 192.0.2.0/24, priority: 1000, "
        "route-table: 200}, current {family: ipv4, ip-from: 192.0.2.0/24, priority: 1000, "
        "route-table: 100}"
    )
    absent = state(route_rules={"config": [{"state": "absent", "route-table": 100}]})
    (problem,) = verify.problems(absent, CURRENT)
    assert problem.startswith(
        "route-rules.config[0]: desired absent {state: absent, route-table: 100}"
    )


def test_dns_order_matters_lists_not_given_do_not() -> None:
    assert (
        verify.problems(
            state(dns_resolver={"config": {"server": ["192.0.2.53", "2001:DB8::53"]}}), CURRENT
        )
        == []
    )
    assert verify.problems(
        state(dns_resolver={"config": {"server": ["2001:db8::53", "192.0.2.53"]}}), CURRENT
    ) == [
        "dns-resolver.config.server: desired [2001:db8::53, 192.0.2.53], "
        "current [192.0.2.53, 2001:db8::53]"
    ]
    assert verify.problems(state(dns_resolver={"config": {}}), CURRENT) == [
        "dns-resolver.config.server: desired none, current [192.0.2.53, 2001:db8::53]",
        "dns-resolver.config.search: desired none, current [example.org]",
    ]
    assert (
        verify.problems(state(dns_resolver={"config": {}}), state(dns_resolver={"config": {}}))
        == []
    )


def test_hostname() -> None:
    assert verify.problems(state(hostname={"running": "box-one"}), CURRENT) == []
    assert verify.problems(state(hostname={"running": "box-two", "config": "saved"}), CURRENT) == [
        "hostname.running: desired box-two, current box-one"
    ]


def test_read_filter_wants_everything_for_non_interface_sections() -> None:
    assert verify.read_filter(state({"name": "eth1"})) == ["eth1"]
    assert verify.read_filter(state({"name": "eth1"}, hostname={"running": "x"})) is None


def test_show_output_round_trips_through_the_model() -> None:
    shown: dict[str, Any] = {
        "hostname": {"config": "saved", "running": "box-one"},
        "dns-resolver": {
            "config": {"server": ["192.0.2.53"]},
            "running": {"server": ["192.0.2.53"]},
        },
        "route-rules": RULES_NOW,
        "routes": {"running": ROUTES_NOW["config"], "config": ROUTES_NOW["config"]},
        "interfaces": [
            {**BRIDGE_NOW, "mtu": 1500, "ipv4": {"enabled": False}, "ipv6": {"enabled": False}},
            {
                "name": "lo",
                "type": "loopback",
                "state": "up",
                "tun": {"mode": "tap"},
                "lldp": {"enabled": False},
            },
        ],
    }
    model = NetworkState.from_dict(shown)
    again = model.to_dict()
    assert again["interfaces"] == shown["interfaces"]
    for key in ("hostname", "dns-resolver", "route-rules"):
        assert again[key] == shown[key]
    assert again["routes"]["config"] == shown["routes"]["config"]
    assert Interface.from_dict(again["interfaces"][0]) == model.interfaces[0]


def test_dry_run_diff_lists_only_what_would_change() -> None:
    desired = state(
        {"name": "vx0", "vxlan": {"id": 10}},
        {"name": "mv0", "mtu": 9000},
        routes={
            "config": [
                ROUTES_NOW["config"][0],
                {"destination": "10.0.0.0/8", "next-hop-interface": "eth1"},
            ]
        },
        route_rules={"config": [RULES_NOW["config"][0]]},
        dns_resolver={"config": {"search": ["example.net"]}},
        hostname={"running": "box-one"},
    )
    assert diff.diff(desired, CURRENT) == {
        "interfaces": [{"name": "mv0", "mtu": 9000}],
        "routes": {"config": [{"destination": "10.0.0.0/8", "next-hop-interface": "eth1"}]},
        "dns-resolver": {"config": {"search": ["example.net"]}},
    }


def test_keys_show_does_not_report_are_named_as_unverifiable() -> None:
    (plain,) = state({"name": "eth1", "mtu": 1400}).interfaces
    assert verify.unverifiable(plain) == []
    (described,) = state(
        {"name": "eth1", "description": "x", "ipv6": {"addr-gen-mode": "eui64"}}
    ).interfaces
    assert verify.unverifiable(described) == ["description", "ipv6.addr-gen-mode"]

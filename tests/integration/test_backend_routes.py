"""Static routes and route rules through the real NetworkManager, as nmstate defines them."""

from __future__ import annotations

from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl

ADDRESSES = """
interfaces:
- name: eth1
  type: ethernet
  ipv4:
    enabled: true
    address:
    - ip: 192.0.2.10
      prefix-length: 24
  ipv6:
    enabled: true
    address:
    - ip: 2001:db8:1::10
      prefix-length: 64
- name: eth2
  type: ethernet
  ipv4:
    enabled: true
    address:
    - ip: 192.0.3.10
      prefix-length: 24
"""

ROUTES = """
routes:
  config:
  - destination: 198.51.100.0/24
    next-hop-interface: eth1
    next-hop-address: 192.0.2.1
    metric: 150
  - destination: 203.0.113.0/24
    next-hop-interface: eth1
    next-hop-address: 192.0.2.1
    table-id: 100
  - destination: 2001:db8:2::/64
    next-hop-interface: eth1
    next-hop-address: 2001:db8:1::1
  - destination: 0.0.0.0/0
    next-hop-interface: eth2
    next-hop-address: 192.0.3.1
"""


def apply(ctl: Ctl, text: str) -> None:
    result = ctl("apply", "-", stdin=text)
    assert result.returncode == 0, result.stderr


def routes(box: Sandbox) -> set[tuple[str, str, str, str, str]]:
    """(destination, gateway, device, table, protocol) of every v4/v6 route but local ones."""
    found = set()
    for family in ("-4", "-6"):
        for route in box.ip_json(family, "route", "show", "table", "all"):
            table = str(route.get("table", "main"))
            if table == "local" or route.get("dst", "").startswith(("fe80", "ff00", "multicast")):
                continue
            found.add(
                (
                    route["dst"],
                    route.get("gateway", ""),
                    route.get("dev", ""),
                    table,
                    route["protocol"],
                )
            )
    return found


def test_static_routes_main_and_other_table_then_absent_wildcard(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    apply(nmstatectl, ADDRESSES + ROUTES)
    now = routes(box)
    assert {
        ("198.51.100.0/24", "192.0.2.1", "eth1", "main", "static"),
        ("203.0.113.0/24", "192.0.2.1", "eth1", "100", "static"),
        ("2001:db8:2::/64", "2001:db8:1::1", "eth1", "main", "static"),
        ("default", "192.0.3.1", "eth2", "main", "static"),
    } <= now
    metric = [
        r["metric"] for r in box.ip_json("route", "show", "198.51.100.0/24") if r["dev"] == "eth1"
    ]
    assert metric == [150]

    # A route another daemon installed (its own protocol) is not ours to touch.
    box.ip("route", "add", "10.99.0.0/16", "via", "192.0.2.254", "dev", "eth1", "proto", "188")
    hand_made = ("10.99.0.0/16", "192.0.2.254", "eth1", "main", "ospf")  # 188 by name
    assert hand_made in routes(box)
    apply(nmstatectl, "interfaces:\n- name: eth2\n  mtu: 1400\n")  # unrelated
    assert hand_made in routes(box)
    more = "routes:\n  config:\n  - destination: 10.98.0.0/16\n    next-hop-interface: eth1\n"
    apply(nmstatectl, more)  # touches eth1's own profile and reapplies it
    assert hand_made in routes(box)
    assert ("10.98.0.0/16", "", "eth1", "main", "static") in routes(box)
    # Appended, not replaced: the earlier routes are all still there.
    assert ("203.0.113.0/24", "192.0.2.1", "eth1", "100", "static") in routes(box)

    apply(nmstatectl, "routes:\n  config:\n  - state: absent\n    next-hop-interface: eth1\n")
    after = routes(box)
    assert not {r for r in after if r[2] == "eth1" and r[4] == "static"}
    assert hand_made in after
    assert ("default", "192.0.3.1", "eth2", "main", "static") in after


RULES = """
routes:
  config:
  - destination: 203.0.113.0/24
    next-hop-interface: eth1
    next-hop-address: 192.0.2.1
    table-id: 100
route-rules:
  config:
  - ip-from: 192.0.2.0/24
    priority: 1000
    route-table: 100
  - ip-to: 198.51.100.0/24
    route-table: 100
  - family: ipv6
    ip-from: 2001:db8:1::/64
    priority: 1002
    route-table: 100
  - ip-to: 10.0.0.0/8
    priority: 1003
    action: prohibit
"""


def rules(box: Sandbox) -> set[tuple[Any, ...]]:
    found = set()
    for family in ("-4", "-6"):
        for rule in box.ip_json(family, "rule", "show"):
            if rule["priority"] in (0, 32766, 32767):
                continue
            source = rule.get("src", "all")
            if "srclen" in rule:
                source = f"{source}/{rule['srclen']}"
            destination = rule.get("dst", "all")
            if "dstlen" in rule:
                destination = f"{destination}/{rule['dstlen']}"
            found.add(
                (rule["priority"], source, destination, str(rule.get("table", rule.get("action"))))
            )
    return found


def test_route_rules_added_then_removed_by_table_wildcard(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    apply(nmstatectl, ADDRESSES + RULES)
    assert rules(box) == {
        (1000, "192.0.2.0/24", "all", "100"),
        (30000, "all", "198.51.100.0/24", "100"),  # nmstate's default priority
        (1002, "2001:db8:1::/64", "all", "100"),
        (1003, "all", "10.0.0.0/8", "prohibit"),
    }
    apply(nmstatectl, "route-rules:\n  config:\n  - state: absent\n    route-table: 100\n")
    assert rules(box) == {(1003, "all", "10.0.0.0/8", "prohibit")}

"""Editing a profile in place keeps what the request does not mention."""

from __future__ import annotations

from tests.helpers import Ctl

ROUTED = """\
interfaces:
- name: eth4
  type: ethernet
  state: up
  ipv4:
    enabled: true
    dhcp: false
    address:
    - ip: 192.0.2.40
      prefix-length: 24
routes:
  config:
  - destination: 198.51.100.0/24
    next-hop-address: 192.0.2.1
    next-hop-interface: eth4
    table-id: 100
"""
MTU_ONLY = "interfaces:\n- name: eth4\n  type: ethernet\n  state: up\n  mtu: 1400\n"


def test_an_unrelated_change_keeps_a_route_in_its_table(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    assert nmstatectl("apply", "-q", "-", stdin=ROUTED).returncode == 0
    for _ in range(2):  # and the profile does not pile up copies of the route
        result = nmstatectl("apply", "-q", "-", stdin=MTU_ONLY)
        assert result.returncode == 0, result.stderr
    routes = box.nmcli("-g", "ipv4.routes", "connection", "show", "eth4").stdout.strip()
    assert routes == "198.51.100.0/24 192.0.2.1 table=100"
    assert box.ip_json("route", "show", "table", "100", "198.51.100.0/24")
    assert not box.ip_json("route", "show", "table", "main", "198.51.100.0/24")


def test_absent_nic_loses_its_profile_but_keeps_its_link(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    assert nmstatectl("apply", "-q", "-", stdin=ROUTED).returncode == 0
    index = box.ip_json("link", "show", "eth4")[0]["ifindex"]
    result = nmstatectl("apply", "-q", "-", stdin="interfaces:\n- name: eth4\n  state: absent\n")
    assert result.returncode == 0, result.stderr
    assert box.ip_json("link", "show", "eth4")[0]["ifindex"] == index
    assert "eth4" not in box.nmcli("-t", "-f", "NAME", "connection", "show").stdout.split()

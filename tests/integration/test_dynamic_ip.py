"""DHCP and its auto-* options: applied, verified and shown, with no DHCP server around.

IPv4 may fail in NetworkManager by default, so with IPv6 link-local the
profile activates while DHCPv4 keeps asking in the background: enough to see
that the options reach NetworkManager and come back in Show.
"""

from __future__ import annotations

import json

from tests.helpers import Ctl

DHCP = """\
interfaces:
- name: eth2
  type: ethernet
  state: up
  ipv4:
    enabled: true
    dhcp: true
    auto-dns: false
    auto-gateway: false
    auto-routes: true
    auto-route-table-id: 100
    auto-route-metric: 50
  ipv6:
    enabled: true
"""


def test_dhcp_options_are_applied_verified_and_shown(nmstatectl: Ctl) -> None:
    result = nmstatectl("apply", "-", stdin=DHCP)
    assert result.returncode == 0, result.stderr
    shown = nmstatectl("show", "--json", "eth2")
    (eth2,) = json.loads(shown.stdout)["interfaces"]
    assert eth2["ipv4"] == {
        "enabled": True,
        "dhcp": True,
        "auto-dns": False,
        "auto-gateway": False,
        "auto-routes": True,
        "auto-route-table-id": 100,
        "auto-route-metric": 50,
    }
    box = nmstatectl.box
    profile = box.nmcli(
        "-g",
        "ipv4.method,ipv4.ignore-auto-dns,ipv4.never-default,ipv4.route-table",
        "connection",
        "show",
        "eth2",
    ).stdout.split()
    assert profile == ["auto", "yes", "yes", "100"]

    # Changing one option is seen by verify and by Show.
    changed = DHCP.replace("auto-dns: false", "auto-dns: true")
    assert nmstatectl("apply", "-", stdin=changed).returncode == 0
    shown = json.loads(nmstatectl("show", "--json", "eth2").stdout)["interfaces"][0]
    assert shown["ipv4"]["auto-dns"] is True

"""Route rules survive changes to other parts of the state, through the real NetworkManager.

NetworkManager keeps each rule in some interface's profile.  When that
profile goes (the interface goes absent) or can no longer hold the rule (its
IP family is disabled), the same apply moves the rule to another profile; a
dry run says so, and lists an ethernet NIC whose profile an ``absent`` deletes.
With no profile left to hold a rule, the apply is refused and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses

TWO_NICS = """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4: {enabled: true, address: [{ip: 192.0.2.10, prefix-length: 24}]}
- name: eth2
  type: ethernet
  state: up
  ipv4: {enabled: true, address: [{ip: 192.0.2.20, prefix-length: 24}]}
"""
# eth2 is named so that its profile is the one that takes the rules.
RULES_IN_ETH2 = """
interfaces:
- {name: eth2, type: ethernet, state: up}
route-rules:
  config:
  - {ip-from: 10.88.0.0/16, route-table: 100, priority: 1001}
  - {ip-to: 10.99.0.0/16, route-table: 200, priority: 1002}
  - {ip-to: 10.77.0.0/16, action: prohibit, priority: 1003}
"""
PRIORITIES = {1001, 1002, 1003}
# Added once the rules are held: eth1 routes through table 100, so rule 1001 goes there next.
TABLE_100_VIA_ETH1 = """
routes:
  config:
  - {destination: 203.0.113.0/24, next-hop-interface: eth1, next-hop-address: 192.0.2.1,
     table-id: 100}
"""


def apply(ctl: Ctl, text: str, *options: str) -> str:
    result = ctl("apply", *options, "-", stdin=text)
    assert result.returncode == 0, result.stderr
    return result.stdout


def kernel_rules(box: Sandbox) -> set[int]:
    """Priorities of the kernel's rules, both families, but the default ones."""
    return {
        rule["priority"]
        for family in ("-4", "-6")
        for rule in box.ip_json(family, "rule", "show")
        if rule["priority"] not in (0, 32766, 32767)
    }


def shown_rules(ctl: Ctl) -> set[int]:
    result = ctl("show", "--json")
    assert result.returncode == 0, result.stderr
    return {rule["priority"] for rule in json.loads(result.stdout)["route-rules"]["config"]}


def held_by(box: Sandbox, profile: str) -> set[int]:
    """Priorities of the rules in a profile (``ipv4.routing-rules``)."""
    text = box.nmcli("-g", "ipv4.routing-rules", "connection", "show", profile).stdout
    return {int(entry.split()[1]) for entry in text.strip().split(",") if entry.strip()}


def dry_run_diff(ctl: Ctl, text: str) -> dict[str, Any]:
    out = apply(ctl, text, "--dry-run")
    assert out.startswith("# would change:"), out
    diff: dict[str, Any] = yaml.safe_load(out)
    return diff


def rules_in_eth2(ctl: Ctl) -> None:
    apply(ctl, TWO_NICS)
    apply(ctl, RULES_IN_ETH2)
    apply(ctl, TABLE_100_VIA_ETH1)
    assert held_by(ctl.box, "eth2") == PRIORITIES  # the setup the reports start from
    assert kernel_rules(ctl.box) == PRIORITIES


def new_holders(box: Sandbox) -> None:
    """As nmstate picks: the profile routing through the rule's table, else the loopback's."""
    assert held_by(box, "eth1") == {1001}
    assert held_by(box, "lo") == {1002, 1003}


def test_rules_move_when_their_nic_goes_absent_and_the_dry_run_says_so(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    rules_in_eth2(nmstatectl)
    absent = "interfaces: [{name: eth2, state: absent}]\n"

    diff = dry_run_diff(nmstatectl, absent)
    assert {"name": "eth2", "type": "ethernet", "state": "absent"} in diff["interfaces"]
    moved = {m["rule"]["priority"]: (m["from"], m["to"]) for m in diff["moved-route-rules"]}
    assert moved == {1001: ("eth2", "eth1"), 1002: ("eth2", "lo"), 1003: ("eth2", "lo")}
    assert ipv4_addresses(box, "eth2") == {"192.0.2.20/24"}  # a dry run changes nothing
    assert held_by(box, "eth2") == PRIORITIES

    apply(nmstatectl, absent)
    assert ipv4_addresses(box, "eth2") == set()
    assert kernel_rules(box) == PRIORITIES
    assert shown_rules(nmstatectl) == PRIORITIES
    new_holders(box)


def test_rules_move_when_their_interface_disables_ipv4(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    rules_in_eth2(nmstatectl)
    apply(nmstatectl, "interfaces: [{name: eth2, ipv4: {enabled: false}}]\n")
    assert ipv4_addresses(box, "eth2") == set()
    assert kernel_rules(box) == PRIORITIES
    assert shown_rules(nmstatectl) == PRIORITIES
    new_holders(box)
    assert held_by(box, "eth2") == set()


def test_a_rule_no_profile_could_hold_is_refused_and_nothing_changes(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    # No NIC has a profile: the loopback's is the only one to take the rule.
    apply(nmstatectl, "route-rules:\n  config:\n  - {ip-from: 10.88.0.0/16, priority: 1001}\n")
    assert held_by(box, "lo") == {1001}
    no_ipv4 = "interfaces: [{name: lo, ipv4: {enabled: false}}]\n"
    for options in (("--dry-run",), ()):
        result = nmstatectl("apply", *options, "-", stdin=no_ipv4)
        assert result.returncode != 0
        (line,) = result.stderr.strip().splitlines()
        assert "route-rules: rule {" in line and "priority: 1001" in line
        assert "would be lost: lo" in line and "Traceback" not in line
    assert kernel_rules(box) == {1001}
    assert held_by(box, "lo") == {1001}
    assert ipv4_addresses(box, "lo") == {"127.0.0.1/8"}

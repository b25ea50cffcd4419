"""A failed apply leaves nothing that blocks a later, valid one."""

from __future__ import annotations

from tests.helpers import EXAMPLES, Ctl

MACVLAN = """\
interfaces:
- name: v0
  type: mac-vlan
  state: up
  mac-vlan:
    base-iface: eth4
    mode: bridge
"""


def test_the_name_of_a_failed_software_interface_can_be_used_again(nmstatectl: Ctl) -> None:
    failed = nmstatectl("apply", str(EXAMPLES / "rollback-veth-peer-taken.yml"))
    assert failed.returncode == 1, failed.stderr
    result = nmstatectl("apply", "-q", "-", stdin=MACVLAN)
    assert result.returncode == 0, result.stderr
    (link,) = nmstatectl.box.ip_json("-d", "link", "show", "v0")
    assert link["linkinfo"]["info_kind"] == "macvlan"

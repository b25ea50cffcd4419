"""A veth pair through the real NetworkManager: both ends up, then both gone for good."""

from __future__ import annotations

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses, profiles

PAIR = """
interfaces:
- name: veth0
  type: veth
  veth:
    peer: veth1
  ipv4:
    enabled: true
    address:
    - ip: 198.51.100.1
      prefix-length: 24
"""


def links(box: Sandbox) -> dict[str, dict[str, object]]:
    return {link["ifname"]: link for link in box.ip_json("link", "show")}


def test_veth_pair_up_then_absent_removes_both_ends_and_profiles(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    created = nmstatectl("apply", "-", stdin=PAIR)
    assert created.returncode == 0, created.stderr

    now = links(box)
    assert {"veth0", "veth1"} <= set(now)
    for end in ("veth0", "veth1"):
        assert "UP" in now[end]["flags"], now[end]  # type: ignore[operator]
    assert ipv4_addresses(box, "veth0") == {"198.51.100.1/24"}
    assert {"veth0", "veth1"} <= set(profiles(box).values())

    removed = nmstatectl("apply", "-", stdin="interfaces:\n- name: veth0\n  state: absent\n")
    assert removed.returncode == 0, removed.stderr
    assert not {"veth0", "veth1"} & set(links(box))
    assert not {"veth0", "veth1"} & set(profiles(box).values())
    # Nothing is left that could re-create the pair: no profile names either end
    # as its interface or as a veth peer ...
    peers = box.nmcli("-g", "veth.peer", "connection", "show", *profiles(box), check=False)
    assert "veth0" not in peers.stdout and "veth1" not in peers.stdout
    # ... and a later apply that touches something else does not bring it back.
    other = nmstatectl(
        "apply", "-", stdin="interfaces:\n- name: eth1\n  type: ethernet\n  mtu: 1400\n"
    )
    assert other.returncode == 0, other.stderr
    assert not {"veth0", "veth1"} & set(links(box))

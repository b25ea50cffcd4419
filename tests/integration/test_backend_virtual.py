"""vxlan and mac-vlan stacked on a veth, through the real NetworkManager; MTU changes on each."""

from __future__ import annotations

from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses

STACK = """
interfaces:
- name: veth0
  type: veth
  mtu: {veth_mtu}
  veth:
    peer: veth1
  ipv4:
    enabled: true
    address:
    - ip: 198.51.100.1
      prefix-length: 24
- name: vxlan10
  type: vxlan
  mtu: {vxlan_mtu}
  vxlan:
    base-iface: veth0
    id: 10
    remote: 198.51.100.2
    destination-port: 4789
  ipv4:
    enabled: true
    address:
    - ip: 203.0.113.1
      prefix-length: 24
- name: mv0
  type: mac-vlan
  mtu: {macvlan_mtu}
  mac-vlan:
    base-iface: veth0
    mode: bridge
  ipv6:
    enabled: true
    address:
    - ip: 2001:db8::1
      prefix-length: 64
"""


def details(box: Sandbox, name: str) -> dict[str, Any]:
    (link,) = box.ip_json("-d", "link", "show", "dev", name)
    return dict(link)


def apply_stack(ctl: Ctl, veth: int, vxlan: int, macvlan: int) -> None:
    text = STACK.format(veth_mtu=veth, vxlan_mtu=vxlan, macvlan_mtu=macvlan)
    result = ctl("apply", "-", stdin=text)
    assert result.returncode == 0, result.stderr


def mtus(box: Sandbox) -> dict[str, int]:
    return {name: details(box, name)["mtu"] for name in ("veth0", "vxlan10", "mv0")}


def test_vxlan_and_mac_vlan_over_a_veth_then_new_mtus(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    apply_stack(nmstatectl, 1600, 1400, 1500)

    veth0 = details(box, "veth0")
    vxlan = details(box, "vxlan10")
    vx = vxlan["linkinfo"]["info_data"]
    assert vxlan["linkinfo"]["info_kind"] == "vxlan"
    assert (vx["id"], vx["remote"], vx["port"], vx["link"]) == (10, "198.51.100.2", 4789, "veth0")
    assert ipv4_addresses(box, "vxlan10") == {"203.0.113.1/24"}
    macvlan = details(box, "mv0")
    assert macvlan["linkinfo"]["info_kind"] == "macvlan"
    assert macvlan["linkinfo"]["info_data"]["mode"] == "bridge"
    assert macvlan["link"] == "veth0"
    v6 = {
        f"{a['local']}/{a['prefixlen']}"
        for link in box.ip_json("-6", "addr", "show", "dev", "mv0")
        for a in link.get("addr_info", [])
        if a.get("scope") == "global"
    }
    assert v6 == {"2001:db8::1/64"}
    assert mtus(box) == {"veth0": 1600, "vxlan10": 1400, "mv0": 1500}
    assert "UP" in veth0["flags"]

    apply_stack(nmstatectl, 1700, 1450, 1300)
    assert mtus(box) == {"veth0": 1700, "vxlan10": 1450, "mv0": 1300}
    # Changing the MTU did not re-create the links.
    assert details(box, "vxlan10")["ifindex"] == vxlan["ifindex"]
    assert details(box, "mv0")["ifindex"] == macvlan["ifindex"]

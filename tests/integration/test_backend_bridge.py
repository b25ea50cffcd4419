"""A linux bridge through the real NetworkManager: options, ports in and out, VLAN filtering."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses, profiles

BRIDGE = """
interfaces:
- name: br0
  type: linux-bridge
  ipv4:
    enabled: true
    address:
    - ip: 192.0.2.1
      prefix-length: 24
  bridge:
    options:
      stp:
        enabled: true
        forward-delay: 10
        hello-time: 3
        max-age: 25
        priority: 4096
      mac-ageing-time: 120
    port:
    - name: eth1
      stp-path-cost: 10
      stp-priority: 20
    - name: eth2
      stp-hairpin-mode: true
"""


def apply(ctl: Ctl, text: str) -> None:
    result = ctl("apply", "-", stdin=text)
    assert result.returncode == 0, result.stderr


def details(box: Sandbox, name: str) -> dict[str, Any]:
    (link,) = box.ip_json("-d", "link", "show", "dev", name)
    return dict(link)


def ports(box: Sandbox, bridge: str) -> set[str]:
    return {link["ifname"] for link in box.ip_json("link", "show", "master", bridge)}


def test_bridge_ports_come_and_go_then_the_bridge(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    apply(nmstatectl, BRIDGE)

    info = details(box, "br0")["linkinfo"]["info_data"]
    # The kernel counts STP timers and the ageing time in centiseconds.
    assert (info["stp_state"], info["forward_delay"], info["hello_time"], info["max_age"]) == (
        1,
        1000,
        300,
        2500,
    )
    assert (info["priority"], info["ageing_time"]) == (4096, 12000)
    assert ipv4_addresses(box, "br0") == {"192.0.2.1/24"}
    assert ports(box, "br0") == {"eth1", "eth2"}
    eth1 = details(box, "eth1")["linkinfo"]["info_slave_data"]
    eth2 = details(box, "eth2")["linkinfo"]["info_slave_data"]
    assert (eth1["cost"], eth1["priority"], eth1["hairpin"]) == (10, 20, False)
    assert eth2["hairpin"] is True

    apply(nmstatectl, "interfaces:\n- name: br0\n  bridge:\n    port:\n    - name: eth1\n")
    assert ports(box, "br0") == {"eth1"}
    assert "master" not in details(box, "eth2")
    assert "eth2" in profiles(box).values()  # a detached NIC keeps a (plain) profile

    apply(nmstatectl, "interfaces:\n- name: br0\n  bridge:\n    port: []\n")
    assert ports(box, "br0") == set()
    assert ipv4_addresses(box, "br0") == {"192.0.2.1/24"}  # the bridge itself is untouched

    apply(nmstatectl, "interfaces:\n- name: br0\n  state: absent\n")
    assert "br0" not in {link["ifname"] for link in box.ip_json("link", "show")}
    assert "br0" not in profiles(box).values()
    for nic in ("eth1", "eth2"):
        assert "master" not in details(box, nic)


VLAN_BRIDGE = """
interfaces:
- name: br1
  type: linux-bridge
  bridge:
    options:
      stp:
        enabled: false
    port:
    - name: eth3
      vlan:
        mode: trunk
        trunk-tags:
        - id-range:
            min: 100
            max: 199
        - id: 300
    - name: eth4
      vlan:
        mode: access
        tag: 100
"""


def kernel_has_vlan_filtering(box: Sandbox) -> bool:
    probe = subprocess.run(
        [
            "ip",
            "-n",
            box.netns,
            "link",
            "add",
            "nmsd-probe",
            "type",
            "bridge",
            "vlan_filtering",
            "1",
        ],
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        box.ip("link", "delete", "nmsd-probe")
    return probe.returncode == 0


def bridge_vlans(box: Sandbox) -> dict[str, set[tuple[int, bool, bool]]]:
    """``bridge -j vlan`` inside the sandbox: port → {(vid, pvid, untagged)}."""
    out = subprocess.run(
        box.ns_cmd("bridge", "-j", "vlan", "show"), capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, set[tuple[int, bool, bool]]] = {}
    for entry in json.loads(out or "[]"):
        vids = result.setdefault(entry["ifname"], set())
        for vlan in entry["vlans"]:
            flags = vlan.get("flags", [])
            for vid in range(vlan["vlan"], vlan.get("vlanEnd", vlan["vlan"]) + 1):
                vids.add((vid, "PVID" in flags, "Egress Untagged" in flags))
    return result


def test_port_vlan_filtering_trunk_and_access(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    before = profiles(box)
    result = nmstatectl("apply", "-", stdin=VLAN_BRIDGE)
    if kernel_has_vlan_filtering(box):
        assert result.returncode == 0, result.stderr
        vlans = bridge_vlans(box)
        assert {v for v, _, _ in vlans["eth3"]} >= set(range(100, 200)) | {300}
        assert not any(pvid or untagged for v, pvid, untagged in vlans["eth3"] if v >= 100)
        assert (100, True, True) in vlans["eth4"]
        return
    # This kernel has no bridge VLAN filtering: a clear failure, everything rolled back.
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "br1" in line and "rolled back" in line and "Traceback" not in line
    assert profiles(box) == before
    assert "br1" not in {link["ifname"] for link in box.ip_json("link", "show")}

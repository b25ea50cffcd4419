"""bond, vlan, dummy and vrf on a kernel that may lack their drivers: clean failure, full rollback.

Their translation is tested against the expected settings in
tests/unit/test_nm_settings.py; here the real NetworkManager tries them.
Where the kernel has the driver the apply must simply work.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from sandbox import Sandbox
from tests.helpers import Ctl, profiles

CASES = {
    "bond": (
        "bond0",
        "interfaces:\n- name: bond0\n  type: bond\n  link-aggregation:\n"
        "    mode: active-backup\n    port: [eth3]\n",
    ),
    "vlan": (
        "eth3.10",
        "interfaces:\n- name: eth3.10\n  type: vlan\n  vlan:\n    base-iface: eth3\n    id: 10\n",
    ),
    "dummy": (
        "dummy0",
        "interfaces:\n- name: dummy0\n  type: dummy\n  ipv4:\n    enabled: true\n"
        "    address:\n    - ip: 192.0.2.1\n      prefix-length: 24\n",
    ),
    "vrf": (
        "vrf0",
        "interfaces:\n- name: vrf0\n  type: vrf\n  vrf:\n"
        "    route-table-id: 100\n    port: [eth3]\n",
    ),
}


def kernel_supports(box: Sandbox, kind: str) -> bool:
    extra = {
        "vlan": ["link", "eth4", "type", "vlan", "id", "4000"],
        "vrf": ["type", "vrf", "table", "4000"],
    }
    cmd = ["ip", "-n", box.netns, "link", "add", "nmsd-probe"]
    cmd += extra.get(kind, ["type", kind])
    probe = subprocess.run(cmd, capture_output=True, check=False)
    if probe.returncode == 0:
        box.ip("link", "delete", "nmsd-probe")
    return probe.returncode == 0


def snapshot(box: Sandbox, ctl: Ctl) -> tuple[Any, ...]:
    shown = ctl("show", "--json")
    assert shown.returncode == 0, shown.stderr
    interfaces = json.loads(shown.stdout)["interfaces"]
    return (
        json.dumps(interfaces, sort_keys=True),
        profiles(box),
        sorted(link["ifname"] for link in box.ip_json("link", "show")),
    )


@pytest.mark.parametrize("kind", sorted(CASES))
def test_apply_fails_cleanly_and_rolls_back_without_the_driver(nmstatectl: Ctl, kind: str) -> None:
    box = nmstatectl.box
    name, text = CASES[kind]
    before = snapshot(box, nmstatectl)
    result = nmstatectl("apply", "-", stdin=text)
    if kernel_supports(box, kind):
        assert result.returncode == 0, result.stderr
        assert name in {link["ifname"] for link in box.ip_json("link", "show")}
        return
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert name in line and "rolled back" in line, line
    assert "Operation not supported" in line
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(box, nmstatectl) == before

"""Applying what Show printed changes nothing: no profile written, no reactivation, no flap."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from sandbox import Sandbox
from tests.helpers import EXAMPLES, Ctl


def fingerprint(box: Sandbox) -> dict[str, Any]:
    """Everything a write, a reactivation or a link flap would change."""
    links = {
        link["ifname"]: (link["ifindex"], tuple(link["flags"]), link["mtu"])
        for link in box.ip_json("link")
    }
    carrier_changes = {
        name: subprocess.run(
            ["ip", "netns", "exec", box.netns, "cat", f"/sys/class/net/{name}/carrier_changes"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for name in links
    }
    keyfiles = {p.name: p.stat().st_mtime_ns for p in box.keyfile_dir.iterdir()}
    active = box.nmcli("-t", "-f", "GENERAL.DEVICE,GENERAL.CON-PATH", "device", "show").stdout
    profiles = box.nmcli("-t", "-f", "UUID,TIMESTAMP", "connection", "show").stdout
    return {
        "links": links,
        "carrier_changes": carrier_changes,
        "keyfiles": keyfiles,
        "active": active,
        "profiles": profiles,
        "addresses": _without_lifetimes(box.ip_json("addr")),
    }


def _without_lifetimes(value: Any) -> Any:
    """The kernel's addresses without what is left of their lifetimes (it shrinks by itself)."""
    if isinstance(value, dict):
        return {
            key: _without_lifetimes(item)
            for key, item in value.items()
            if key not in ("valid_life_time", "preferred_life_time")
        }
    if isinstance(value, list):
        return [_without_lifetimes(item) for item in value]
    return value


def test_show_applied_back_changes_nothing(nmstatectl: Ctl, tmp_path: Any) -> None:
    box = nmstatectl.box
    assert nmstatectl("apply", str(EXAMPLES / "eth1-static.yml")).returncode == 0
    shown = nmstatectl("show")
    assert shown.returncode == 0, shown.stderr
    state_file = tmp_path / "state.yml"
    state_file.write_text(shown.stdout)

    before = fingerprint(box)
    result = nmstatectl("apply", str(state_file))
    assert result.returncode == 0, result.stderr
    assert fingerprint(box) == before
    again = nmstatectl("show")
    assert again.stdout == shown.stdout


def test_show_with_a_dynamic_address_applied_back_changes_nothing(
    nmstatectl: Ctl, tmp_path: Any
) -> None:
    """An address with a lifetime (as a DHCP client adds it) is listed by Show with its
    lifetimes and ignored when that output is applied back: not made static, not removed."""
    box = nmstatectl.box
    assert nmstatectl("apply", str(EXAMPLES / "eth1-static.yml")).returncode == 0
    box.ip(
        "addr", "add", "203.0.113.5/24", "dev", "eth1", "valid_lft", "3600", "preferred_lft", "1800"
    )
    shown = nmstatectl("show", "--json")
    assert shown.returncode == 0, shown.stderr
    (eth1,) = [i for i in json.loads(shown.stdout)["interfaces"] if i["name"] == "eth1"]
    static, dynamic = eth1["ipv4"]["address"]
    assert static == {"ip": "192.0.2.10", "prefix-length": 24}
    assert dynamic["ip"] == "203.0.113.5" and dynamic["valid-life-time"].endswith("sec")
    running = nmstatectl("show", "--json", "--running-config", "eth1")
    (configured,) = json.loads(running.stdout)["interfaces"]
    assert configured["ipv4"]["address"] == [static]
    state_file = tmp_path / "state.json"
    state_file.write_text(shown.stdout)

    before = fingerprint(box)
    result = nmstatectl("apply", str(state_file))
    assert result.returncode == 0, result.stderr
    assert fingerprint(box) == before
    assert "eth1: ignoring ipv4 addresses 203.0.113.5/24" in box.log_path("nmstated").read_text()
    assert box.nmcli("-g", "ipv4.addresses", "connection", "show", "eth1").stdout.strip() == (
        "192.0.2.10/24"
    )

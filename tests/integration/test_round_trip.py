"""Applying what Show printed changes nothing: no profile written, no reactivation, no flap."""

from __future__ import annotations

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
        "addresses": box.ip_json("addr"),
    }


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

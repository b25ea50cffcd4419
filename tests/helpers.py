"""Helpers for tests that drive the sandbox as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import Sandbox

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "docs" / "examples"


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: network namespaces and a real NetworkManager")


class Ctl:
    """Runs nmstatectl against a sandbox as a user would."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "nmstatectl"), *args],
            env=self.box.env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )


def ipv4_addresses(box: Sandbox, name: str) -> set[str]:
    return {
        f"{a['local']}/{a['prefixlen']}"
        for link in box.ip_json("addr", "show", "dev", name)
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }


def profiles(box: Sandbox) -> dict[str, str]:
    """NetworkManager profiles: name → interface name."""
    out = box.nmcli("-t", "-f", "NAME,TYPE", "connection", "show").stdout
    result = {}
    for line in out.splitlines():
        name = line.rsplit(":", 1)[0]
        iface = box.nmcli("-g", "connection.interface-name", "connection", "show", name).stdout
        result[name] = iface.strip()
    return result


def static_nic_state(name: str, address: str, prefix: int = 24) -> str:
    """A NIC up with one static IPv4 address and IPv6 off, as YAML."""
    return (
        f"interfaces:\n- name: {name}\n  type: ethernet\n  state: up\n  ipv4:\n"
        f"    enabled: true\n    dhcp: false\n    address:\n    - ip: {address}\n"
        f"      prefix-length: {prefix}\n  ipv6:\n    enabled: false\n"
    )

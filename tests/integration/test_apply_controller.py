"""A controller's activation is awaited in two parts: until it can take its
ports, then — after its ports — until it is activated.  The apply must still
end with everything activated, ports attached and the address in place."""

from __future__ import annotations

import json

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses


def bridge(ports: list[str]) -> str:
    return json.dumps(
        {
            "interfaces": [
                {
                    "name": "br0",
                    "type": "linux-bridge",
                    "state": "up",
                    "ipv4": {
                        "enabled": True,
                        "dhcp": False,
                        "address": [{"ip": "203.0.113.1", "prefix-length": 24}],
                    },
                    "ipv6": {"enabled": False},
                    "bridge": {
                        "options": {"stp": {"enabled": False}},
                        "port": [{"name": port} for port in ports],
                    },
                }
            ]
        }
    )


def active_state(box: Sandbox, device: str) -> str:
    return box.nmcli("-g", "GENERAL.STATE", "device", "show", device).stdout.strip()


def test_bridge_with_ports_ends_activated(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    result = nmstatectl("apply", "-q", "-", stdin=bridge(["eth3", "eth4"]))
    assert result.returncode == 0, result.stderr
    # Nothing left activating when the apply says it is done.
    for device in ("br0", "eth3", "eth4"):
        assert active_state(box, device).startswith("100"), device
    assert ipv4_addresses(box, "br0") == {"203.0.113.1/24"}
    links = {link["ifname"]: link for link in box.ip_json("link")}
    assert links["eth3"].get("master") == "br0" and links["eth4"].get("master") == "br0"


def test_bridge_without_ports_is_still_awaited(nmstatectl: Ctl) -> None:
    # No port ever brings carrier: NetworkManager finishes the activation only
    # after its carrier wait; the apply must wait for that, not stop early
    # (--no-verify: verification would otherwise wait for it too).
    box = nmstatectl.box
    result = nmstatectl("apply", "-q", "--no-verify", "-", stdin=bridge([]))
    assert result.returncode == 0, result.stderr
    assert active_state(box, "br0").startswith("100")
    assert ipv4_addresses(box, "br0") == {"203.0.113.1/24"}

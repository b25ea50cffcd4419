"""Global DNS and the hostname through the real NetworkManager (and the kernel's UTS namespace)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from sandbox import Sandbox
from tests.helpers import Ctl

DNS = """
dns-resolver:
  config:
    server:
    - 192.0.2.53
    - 2001:DB8::53
    search:
    - example.org
    - example.net
"""


def show(ctl: Ctl) -> dict[str, Any]:
    result = ctl("show", "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def global_dns(box: Sandbox) -> str:
    """NetworkManager's own answer, not ours."""
    return subprocess.run(
        [
            "busctl",
            f"--address={box.bus_address}",
            "get-property",
            "org.freedesktop.NetworkManager",
            "/org/freedesktop/NetworkManager",
            "org.freedesktop.NetworkManager",
            "GlobalDnsConfiguration",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def kernel_hostname(box: Sandbox) -> str:
    return subprocess.run(
        box.ns_cmd("hostname"), capture_output=True, text=True, check=True
    ).stdout.strip()


def test_dns_servers_and_search_set_then_purged(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    result = nmstatectl("apply", "-", stdin=DNS)
    assert result.returncode == 0, result.stderr
    assert show(nmstatectl)["dns-resolver"]["config"] == {
        "server": ["192.0.2.53", "2001:db8::53"],
        "search": ["example.org", "example.net"],
    }
    raw = global_dns(box)
    assert '"192.0.2.53" "2001:db8::53"' in raw and '"example.org" "example.net"' in raw

    # Only the servers given: the search list stays.
    servers = "dns-resolver:\n  config:\n    server:\n    - 198.51.100.53\n"
    result = nmstatectl("apply", "-", stdin=servers)
    assert result.returncode == 0, result.stderr
    assert show(nmstatectl)["dns-resolver"]["config"] == {
        "server": ["198.51.100.53"],
        "search": ["example.org", "example.net"],
    }

    result = nmstatectl("apply", "-", stdin="dns-resolver:\n  config: {}\n")
    assert result.returncode == 0, result.stderr
    assert show(nmstatectl)["dns-resolver"]["config"] == {}
    assert global_dns(box) == "a{sv} 0"


def test_running_hostname_set_and_read_back(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    before = kernel_hostname(box)
    result = nmstatectl("apply", "-", stdin="hostname:\n  running: box-one\n")
    assert result.returncode == 0, result.stderr
    assert kernel_hostname(box) == "box-one" != before
    assert show(nmstatectl)["hostname"]["running"] == "box-one"


def test_a_failed_apply_puts_the_running_hostname_back(nmstatectl: Ctl) -> None:
    """The hostname is outside NetworkManager's checkpoints: nmstated restores it itself.

    Saving the persistent hostname fails in the sandbox (/etc/hostname is a bind
    mount that NetworkManager's rename cannot replace), after the running
    hostname was already set: that must be undone.
    """
    box = nmstatectl.box
    before = kernel_hostname(box)
    text = "hostname:\n  running: box-two\n  config: box-two\n"
    result = nmstatectl("apply", "-", stdin=text)
    if result.returncode == 0:  # a system where the file can be replaced
        assert kernel_hostname(box) == "box-two"
        return
    (line,) = result.stderr.strip().splitlines()
    assert "hostname.config" in line and "rolled back" in line
    assert kernel_hostname(box) == before

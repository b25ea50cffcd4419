"""Desired states and job look-ups shared by the transaction and fault tests."""

from __future__ import annotations

import subprocess
from typing import Any

from sandbox import Sandbox
from tests.bus import call
from tests.events import wait_job
from tests.helpers import Ctl, ipv4_addresses


def eth1_state(address: str) -> str:
    return (
        "interfaces:\n- name: eth1\n  type: ethernet\n  state: up\n  ipv4:\n"
        f"    enabled: true\n    dhcp: false\n    address:\n    - ip: {address}\n"
        "      prefix-length: 24\n"
    )


OLD, NEW = "192.0.2.10", "192.0.2.77"


# Duplicate address detection probes eth2 sends before its static IPv6 address
# counts (one a second): far longer than any test runs.
STALL_DAD_PROBES = 1000


def stalling_state(box: Sandbox) -> str:
    """eth1 gets NEW at once; then eth2's static IPv6 address stays tentative, as
    the kernel is told to keep probing for duplicates, and NetworkManager waits for
    it: the job is reliably in the middle of its work ("activating eth2") for long.
    (DHCP with no server no longer stalls: an interface is up without its lease.)"""
    sysctl = f"net.ipv6.conf.eth2.dad_transmits={STALL_DAD_PROBES}"
    subprocess.run(["ip", "netns", "exec", box.netns, "sysctl", "-qw", sysctl], check=True)
    return eth1_state(NEW) + (
        "- name: eth2\n  type: ethernet\n  state: up\n"
        "  ipv4:\n    enabled: false\n  ipv6:\n    enabled: true\n"
        "    address:\n    - ip: 2001:db8:77::1\n      prefix-length: 64\n"
    )


def mid_job(box: Sandbox, job: str) -> None:
    wait_job(box.bus_address, job, lambda p: p.get("Progress") == "activating eth2")
    assert has_only(box, NEW)


def job_props(box: Sandbox, path: str) -> dict[str, Any]:
    reply = call(
        box.bus_address,
        "GetAll",
        "s",
        ["org.nmstate.Job"],
        path=path,
        interface="org.freedesktop.DBus.Properties",
    )
    assert reply.error is None, reply
    return {k: v.value for k, v in reply.body[0].items()}


def latest_job(box: Sandbox) -> str:
    reply = call(
        box.bus_address,
        "Get",
        "ss",
        ["org.nmstate.Manager", "Jobs"],
        interface="org.freedesktop.DBus.Properties",
    )
    return str(reply.body[0].value[-1])


def applied_old_state(nmstatectl: Ctl) -> Sandbox:
    result = nmstatectl("apply", "-", stdin=eth1_state(OLD))
    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(nmstatectl.box, "eth1") == {f"{OLD}/24"}
    return nmstatectl.box


def has_only(box: Sandbox, address: str) -> bool:
    return ipv4_addresses(box, "eth1") == {f"{address}/24"}

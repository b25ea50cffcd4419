"""Issue 2: YAML → nmstatectl → org.nmstate → nmstated → NetworkManager → kernel."""

from __future__ import annotations

import json
import subprocess

import pytest

from sandbox import Sandbox
from tests.bus import call
from tests.helpers import EXAMPLES, REPO, Ctl, ipv4_addresses, profiles, require_root

STATIC = str(EXAMPLES / "eth1-static.yml")
MISSING_NIC = str(EXAMPLES / "rollback-missing-nic.yml")
PEER_TAKEN = str(EXAMPLES / "rollback-veth-peer-taken.yml")


def test_static_address_reaches_kernel_and_networkmanager(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    result = nmstatectl("apply", STATIC)
    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(box, "eth1") == {"192.0.2.10/24"}
    assert "eth1" in profiles(box).values()
    shown = nmstatectl("show", "eth1")
    assert shown.returncode == 0, shown.stderr
    assert "name: eth1" in shown.stdout
    assert "ip: 192.0.2.10" in shown.stdout
    assert "prefix-length: 24" in shown.stdout
    # The apply itself printed the applied state too.
    assert "ip: 192.0.2.10" in result.stdout


def test_missing_nic_is_refused_before_anything_changes(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    assert nmstatectl("apply", STATIC).returncode == 0
    before = profiles(box)

    result = nmstatectl("apply", MISSING_NIC)

    assert result.returncode == 65
    error_lines = result.stderr.strip().splitlines()
    assert len(error_lines) == 1, result.stderr
    assert "interfaces[1]: ethernet 'eth9' does not exist" in error_lines[0]
    assert "nothing was changed" in error_lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert ipv4_addresses(box, "eth1") == {"192.0.2.10/24"}
    assert profiles(box) == before


def test_failure_half_way_rolls_everything_back(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    assert nmstatectl("apply", STATIC).returncode == 0
    before = profiles(box), box.ip_json("link")

    result = nmstatectl("apply", PEER_TAKEN)

    assert result.returncode == 1
    error_lines = result.stderr.strip().splitlines()
    assert len(error_lines) == 1, result.stderr
    assert "v0" in error_lines[0] and "rolled back" in error_lines[0]
    assert ipv4_addresses(box, "eth1") == {"192.0.2.10/24"}
    assert (profiles(box), box.ip_json("link")) == before


def test_same_state_twice_succeeds(nmstatectl: Ctl) -> None:
    first = nmstatectl("apply", STATIC)
    second = nmstatectl("apply", STATIC)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert ipv4_addresses(nmstatectl.box, "eth1") == {"192.0.2.10/24"}


def test_apply_reads_stdin_and_set_is_an_alias(nmstatectl: Ctl) -> None:
    text = (EXAMPLES / "eth1-static.yml").read_text().replace("192.0.2.10", "192.0.2.55")
    result = nmstatectl("set", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(nmstatectl.box, "eth1") == {"192.0.2.55/24"}


def test_show_filters_by_glob_and_prints_json(nmstatectl: Ctl) -> None:
    result = nmstatectl("show", "eth[12]", "--json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert [i["name"] for i in state["interfaces"]] == ["eth1", "eth2"]
    eth1 = state["interfaces"][0]
    link = nmstatectl.box.ip_json("link", "show", "eth1")[0]
    assert eth1["mtu"] == link["mtu"]
    assert eth1["mac-address"] == link["address"].upper()


def test_introspection_lists_show_and_apply(daemon: Sandbox) -> None:
    out = subprocess.run(
        ["busctl", f"--address={daemon.bus_address}", "introspect", "org.nmstate", "/org/nmstate"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    methods = {line.split()[0] for line in out.splitlines() if " method " in line}
    assert {".Show", ".Apply"} <= methods


BAD_INPUTS = [
    ("interfaces: [name: eth1\n", "line"),  # not YAML: unclosed flow sequence
    ("- name: eth1\n", "top level"),
    ("interfaces: []\nintrefaces: []\n", "intrefaces"),
    (
        "interfaces:\n- name: eth1\n  type: ethernet\n  ipv4:\n    enabled: true\n"
        "    address:\n    - ip: 192.0.2.300\n      prefix-length: 24\n",
        "interfaces[0].ipv4.address[0].ip",
    ),
]


@pytest.mark.parametrize(("text", "where"), BAD_INPUTS)
def test_bad_input_is_invalid_argument_and_daemon_keeps_serving(
    daemon: Sandbox, text: str, where: str
) -> None:
    before = ipv4_addresses(daemon, "eth1"), profiles(daemon)
    reply = call(daemon.bus_address, "Apply", "sa{sv}", [text, {}])
    assert reply.error == "org.nmstate.Error.InvalidArgument"
    assert where in reply.message
    assert "\n" not in reply.message and "Traceback" not in reply.message
    assert (ipv4_addresses(daemon, "eth1"), profiles(daemon)) == before
    show = call(daemon.bus_address, "Show", "a{sv}", [{}])
    assert show.error is None
    assert "eth1" in show.message


def test_client_reports_invalid_input_with_exit_code_65(nmstatectl: Ctl) -> None:
    result = nmstatectl("apply", "-", stdin="- name: eth1\n")
    assert result.returncode == 65
    assert result.stderr.count("\n") == 1 and "top level" in result.stderr


def test_make_demo_shows_both_outcomes() -> None:
    require_root()
    result = subprocess.run(
        ["make", "-s", "demo"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first apply succeeded: True" in result.stdout
    assert "missing NIC refused, nothing changed: True" in result.stdout
    assert "failed apply was rolled back: True" in result.stdout
    assert "eth9" in result.stdout

"""Interface object paths and properties, and the monitor client's output, no root."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.monitor import Printer, describe, select
from nmstated.service.interface import (
    escape_label,
    interface_path,
    property_values,
    unescape_label,
)

VIEW: dict[str, Any] = {
    "name": "br-ex",
    "type": "linux-bridge",
    "state": "up",
    "mtu": 1500,
    "mac-address": "02:00:00:00:00:01",
    "ipv4": {"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
    "ipv6": {"enabled": False},
}


@pytest.mark.parametrize(
    ("name", "label"),
    [("eth1", "eth1"), ("br-ex", "br_2dex"), ("veth.10", "veth_2e10"), ("a_b", "a_5fb"), ("", "_")],
)
def test_names_are_escaped_like_systemd_does(name: str, label: str) -> None:
    assert escape_label(name) == label
    assert unescape_label(label) == name


@given(st.text(min_size=1, max_size=15))
def test_any_name_makes_a_valid_path_and_comes_back(name: str) -> None:
    path = interface_path(name)
    assert re.fullmatch(r"(/[A-Za-z0-9_]+)+", path)
    assert unescape_label(path.rsplit("/", 1)[1]) == name


def test_properties_come_from_the_nmstate_view() -> None:
    values = property_values(VIEW)
    assert values == {
        "Name": "br-ex",
        "Type": "linux-bridge",
        "State": "up",
        "Mtu": 1500,
        "MacAddress": "02:00:00:00:00:01",
        "Controller": "",
        "IPv4Addresses": ["192.0.2.1/24"],
        "IPv6Addresses": [],
        "Json": json.dumps(VIEW, separators=(",", ":")),
    }


DELTA: dict[str, Any] = {
    "sequence": 5,
    "job": 2,
    "interfaces": [
        {
            "name": "veth0",
            "changed": ["mtu", "ipv4.address"],
            "old": {
                "name": "veth0",
                "mtu": 1500,
                "ipv4": {"address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
            },
            "new": {
                "name": "veth0",
                "mtu": 9000,
                "ipv4": {"address": [{"ip": "192.0.2.2", "prefix-length": 24}]},
            },
        },
        {
            "name": "dummy9",
            "changed": [],
            "old": None,
            "new": {"name": "dummy9", "type": "veth", "state": "down", "mtu": 1500},
        },
    ],
    "routes": [
        {
            "old": None,
            "new": {
                "destination": "10.0.0.0/8",
                "next-hop-interface": "veth0",
                "next-hop-address": "192.0.2.254",
                "metric": 0,
                "table-id": 254,
            },
        },
    ],
    "route-rules": [{"old": {"family": "ipv4", "priority": 1000, "route-table": 100}, "new": None}],
}


def test_readable_lines_say_what_changed_and_which_job_did_it() -> None:
    assert describe(DELTA) == [
        "veth0: mtu 1500 → 9000; ipv4 address +192.0.2.2/24 -192.0.2.1/24 [job 2]",
        "dummy9: added (veth, down, mtu 1500) [job 2]",
        "route added: 10.0.0.0/8 via 192.0.2.254 dev veth0 metric 0 table 254 [job 2]",
        "rule removed: family ipv4 priority 1000 route-table 100 [job 2]",
    ]


def test_names_select_interfaces_and_the_routes_through_them() -> None:
    only = select(DELTA, ["veth*"])
    assert only is not None
    assert [c["name"] for c in only["interfaces"]] == ["veth0"]
    assert len(only["routes"]) == 1 and only["route-rules"] == []
    assert select(DELTA, ["eth9"]) is None
    assert select(DELTA, []) is DELTA


def test_json_output_is_one_object_per_line() -> None:
    out = io.StringIO()
    printer = Printer(["dummy*"], True, out)
    printer.state_changed(json.dumps(DELTA))
    printer.resynced("netlink receive buffer overflowed")
    first, second = out.getvalue().splitlines()
    assert [c["name"] for c in json.loads(first)["interfaces"]] == ["dummy9"]
    assert json.loads(second) == {"resynced": "netlink receive buffer overflowed"}

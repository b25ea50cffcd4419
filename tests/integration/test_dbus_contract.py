"""The interface XML in dbus/ is what the daemon really exports."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from sandbox import Sandbox
from tests.bus import call
from tests.helpers import REPO


def members(xml: str, interface: str) -> set[tuple[str, ...]]:
    root = ET.fromstring(xml)
    for node in root.findall("interface"):
        if node.get("name") == interface:
            return {
                (
                    child.tag,
                    child.get("name", ""),
                    child.get("type", ""),
                    child.get("access", ""),
                    *(f"{a.get('direction', '')}:{a.get('type')}" for a in child.findall("arg")),
                )
                for child in node
            }
    raise AssertionError(f"{interface} not exported")


@pytest.mark.parametrize(
    ("path", "interface", "xml_file"),
    [
        ("/org/nmstate", "org.nmstate.Manager", "org.nmstate.Manager.xml"),
        ("/org/nmstate/job/1", "org.nmstate.Job", "org.nmstate.Job.xml"),
        ("/org/nmstate/interface/eth1", "org.nmstate.Interface", "org.nmstate.Interface.xml"),
    ],
)
def test_repo_xml_equals_live_introspection(
    daemon: Sandbox, path: str, interface: str, xml_file: str
) -> None:
    # A finished job exists at /org/nmstate/job/1 after one apply.
    assert (
        call(daemon.bus_address, "ApplyAndWait", "sa{sv}", ["interfaces: []\n", {}]).error is None
    )
    live = subprocess.run(
        [
            "busctl",
            f"--address={daemon.bus_address}",
            "introspect",
            "--xml-interface",
            "org.nmstate",
            path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    documented = (REPO / "dbus" / xml_file).read_text()
    # Regenerate with: .venv/bin/python -m sandbox.introspect
    assert members(live, interface) == members(documented, interface)

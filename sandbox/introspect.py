"""``python -m sandbox.introspect``: write dbus/*.xml from the live daemon.

Run after changing an exported interface; tests/integration/test_dbus_contract.py
fails until the files in dbus/ match what the daemon exports.
"""

from __future__ import annotations

import asyncio
import subprocess
import xml.etree.ElementTree as ET

from dbus_fast import Message
from dbus_fast.aio import MessageBus

from sandbox.core import REPO, Sandbox

HEADER = (
    '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
    ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n'
)
OBJECTS = [
    ("/org/nmstate", "org.nmstate.Manager"),
    ("/org/nmstate/job/1", "org.nmstate.Job"),
    ("/org/nmstate/interface/eth1", "org.nmstate.Interface"),
]


async def _make_a_job(address: str) -> None:
    bus = await MessageBus(bus_address=address).connect()
    try:
        await bus.call(
            Message(
                destination="org.nmstate",
                path="/org/nmstate",
                interface="org.nmstate.Manager",
                member="ApplyAndWait",
                signature="sa{sv}",
                body=["interfaces: []\n", {}],
            )
        )
    finally:
        bus.disconnect()


def interface_xml(live: str, interface: str) -> str:
    node = ET.Element("node")
    found = ET.fromstring(live).findall("interface")
    node.extend(el for el in found if el.get("name") == interface)
    ET.indent(node)
    return HEADER + ET.tostring(node, encoding="unicode") + "\n"


def main() -> None:
    with Sandbox() as box:
        box.start_nmstated()
        asyncio.run(_make_a_job(box.bus_address))
        for path, interface in OBJECTS:
            live = subprocess.run(
                [
                    *("busctl", f"--address={box.bus_address}", "introspect"),
                    *("--xml-interface", "org.nmstate", path),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            target = REPO / "dbus" / f"{interface}.xml"
            target.write_text(interface_xml(live, interface))
            print(f"wrote {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()

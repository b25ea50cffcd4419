"""NetworkManager's view at a scale the bus would refuse one call per device for.

dbus-daemon lets a connection have 128 replies pending; asking each of
hundreds of devices for its properties at once got nmstated disconnected.
The devices now come from NetworkManager's object manager, kept current
from its signals: these tests check that Show's NetworkManager overlay is
right for every device, follows changes, and survives a NetworkManager
restart.
"""

from __future__ import annotations

import asyncio
import json
import subprocess

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from sandbox import Sandbox
from tests.bus import call

NM = "org.freedesktop.NetworkManager"
PAIRS = 100  # 200 devices, well past the bus's 128 pending replies


def leave_alone(box: Sandbox, pattern: str) -> None:
    (box.workdir / "conf.d" / "90-objects-tests.conf").write_text(
        f"[keyfile]\nunmanaged-devices=interface-name:{pattern}\n"
    )
    box.nmcli("general", "reload", "conf")


def add_veths(box: Sandbox, pairs: int) -> None:
    lines = [f"link add obj{i}a type veth peer name obj{i}b" for i in range(pairs)]
    subprocess.run(
        ["ip", "-n", box.netns, "-batch", "-"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


async def _wait_for_devices(address: str, count: int, timeout: float) -> None:
    """Until NetworkManager has *count* devices: woken by its DeviceAdded signals."""
    bus = await MessageBus(bus_address=address).connect()
    added = asyncio.Event()

    def on_message(msg: Message) -> None:
        if msg.message_type == MessageType.SIGNAL and msg.member == "DeviceAdded":
            added.set()

    bus.add_message_handler(on_message)
    try:
        await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[f"type='signal',sender='{NM}',member='DeviceAdded'"],
            )
        )
        async with asyncio.timeout(timeout):
            while True:
                added.clear()
                reply = await bus.call(
                    Message(
                        destination=NM,
                        path="/org/freedesktop/NetworkManager",
                        interface=NM,
                        member="GetAllDevices",
                    )
                )
                assert reply is not None and reply.message_type == MessageType.METHOD_RETURN
                if len(reply.body[0]) >= count:
                    return
                await added.wait()
    finally:
        bus.disconnect()


def wait_for_devices(box: Sandbox, count: int) -> None:
    asyncio.run(_wait_for_devices(box.bus_address, count, timeout=60))


def show(box: Sandbox) -> dict[str, dict[str, object]]:
    reply = call(box.bus_address, "Show", "a{sv}", [{}])
    assert reply.error is None, reply.message
    return {iface["name"]: iface for iface in json.loads(reply.message)["interfaces"]}


def test_show_overlays_every_device_of_hundreds(daemon: Sandbox) -> None:
    leave_alone(daemon, "obj*")
    before = len(daemon.ip_json("link"))
    add_veths(daemon, PAIRS)
    wait_for_devices(daemon, before + 2 * PAIRS)

    interfaces = show(daemon)
    ours = {name: iface for name, iface in interfaces.items() if name.startswith("obj")}
    assert len(ours) == 2 * PAIRS
    assert {iface["state"] for iface in ours.values()} == {"ignore"}
    assert interfaces["eth1"]["state"] != "ignore"  # the NICs stay managed

    # A change NetworkManager only signals: a device it stops managing.
    daemon.nmcli("device", "set", "eth2", "managed", "no")
    assert show(daemon)["eth2"]["state"] == "ignore"

    # The daemon is still on the bus and answers (it was disconnected before).
    assert call(daemon.bus_address, "Show", "a{sv}", [{}]).error is None


def test_the_copy_is_reloaded_after_networkmanager_restarts(daemon: Sandbox) -> None:
    leave_alone(daemon, "obj*")
    before = len(daemon.ip_json("link"))
    add_veths(daemon, 3)
    wait_for_devices(daemon, before + 6)
    assert show(daemon)["obj1a"]["state"] == "ignore"

    daemon.restart_networkmanager()
    wait_for_devices(daemon, before + 6)
    daemon.nmcli("device", "set", "eth2", "managed", "no")  # the new NetworkManager's device
    interfaces = show(daemon)
    assert interfaces["eth2"]["state"] == "ignore"
    assert interfaces["eth1"]["state"] != "ignore"
    assert interfaces["obj2a"]["state"] == "ignore"

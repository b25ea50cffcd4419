"""Applying, next to NetworkManager's own client doing the same work.

* One static IPv4 change on an active ethernet: nmstated (eth1) against
  ``nmcli connection modify`` + ``nmcli device reapply`` as processes
  (eth2), alternating between two addresses so every round changes
  something.  nmstated's figure is its own time from the request to
  *verified* (the job's progress turning to "committing", told by its
  PropertiesChanged signal); the whole ApplyAndWait (checkpoint commit
  included) and ``nmstatectl apply FILE`` as a process are reported too.
* A bridge with two ports and an address, from nothing: one ApplyAndWait
  against three ``nmcli connection add`` and three ``nmcli connection up``.  Every
  round starts from no profile for the three (removed untimed).
* N veth pairs with an address each, added in one request and removed in
  another, against an nmcli loop (``connection add`` + ``connection up``
  per pair, then ``connection delete`` per pair); per interface, for
  several N, to show how the cost grows.
* The same few pairs added and removed on an empty host and beside many
  other interfaces: whose cost per interface depends on how many
  interfaces already exist (the part of the growth above that is not
  the request's size).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from bench.common import DaemonStats
from bench.paired import Paired, run_timed, spread
from bench.show import NMSTATECTL, apply_and_wait, byte_compile
from nmstated.backends.networkmanager.client import add_match
from sandbox import Sandbox

JOB = "org.nmstate.Job"


class JobClock:
    """ApplyAndWait, noting when the job's progress said it was verified."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.bus: MessageBus | None = None
        self._committing: dict[str, float] = {}

    async def start(self) -> None:
        self.bus = await MessageBus(bus_address=self.address).connect()

        def on_message(msg: Message) -> None:
            if (
                msg.message_type == MessageType.SIGNAL
                and msg.member == "PropertiesChanged"
                and msg.body[0] == JOB
                and msg.body[1].get("Progress") is not None
                and msg.body[1]["Progress"].value == "committing"
            ):
                self._committing.setdefault(msg.path or "", time.perf_counter())

        self.bus.add_message_handler(on_message)
        await add_match(
            self.bus, f"type='signal',sender='org.nmstate',member='PropertiesChanged',arg0='{JOB}'"
        )

    async def apply(self, state: str) -> tuple[float, float]:
        """(request → verified, request → reply) in seconds."""
        assert self.bus is not None
        started = time.perf_counter()
        reply = await self.bus.call(
            Message(
                destination="org.nmstate",
                path="/org/nmstate",
                interface="org.nmstate.Manager",
                member="ApplyAndWait",
                signature="sa{sv}",
                body=[state, {}],
            )
        )
        done = time.perf_counter()
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"apply failed: {reply.error_name}: {reply.body}")
        verified = self._committing.pop(str(reply.body[0]), done)
        return verified - started, done - started

    def close(self) -> None:
        if self.bus is not None:
            self.bus.disconnect()


def eth_state(name: str, address: str) -> str:
    return json.dumps(
        {
            "interfaces": [
                {
                    "name": name,
                    "type": "ethernet",
                    "state": "up",
                    "ipv4": {
                        "enabled": True,
                        "dhcp": False,
                        "address": [{"ip": address, "prefix-length": 24}],
                    },
                    "ipv6": {"enabled": False},
                }
            ]
        }
    )


def _reapply(profile: str, device: str, address: str) -> list[list[str]]:
    """The floor: change a profile's address and reapply it, as two nmcli processes."""
    return [
        ["nmcli", "connection", "modify", profile, "ipv4.addresses", address],
        ["nmcli", "device", "reapply", device],
    ]


async def static_change(box: Sandbox, rounds: int) -> dict[str, Any]:
    """One static IPv4 change on an active ethernet (eth1: nmstated, eth2: nmcli)."""
    byte_compile()
    clock = JobClock(box.bus_address)
    await clock.start()
    await clock.apply(eth_state("eth1", "198.51.100.10"))
    box.nmcli(
        "connection", "add", "type", "ethernet", "ifname", "eth2", "con-name", "bench-eth2",
        "ipv4.method", "manual", "ipv4.addresses", "198.51.101.10/24", "ipv6.method", "disabled",
    )  # fmt: skip
    box.nmcli("connection", "up", "bench-eth2")
    verified, whole, process = Paired(), Paired(), Paired()
    try:
        with tempfile.TemporaryDirectory(prefix="nmstated-bench-") as tmp:
            await _rounds(box, clock, rounds, Path(tmp), verified, whole, process)
    finally:
        clock.close()
    return {
        "daemon_to_verified": verified.result(),
        "daemon_apply_and_wait": whole.result(),
        "nmstatectl_apply_process": process.result(),
    }


async def _rounds(
    box: Sandbox,
    clock: JobClock,
    rounds: int,
    files: Path,
    verified: Paired,
    whole: Paired,
    process: Paired,
) -> None:
    for i in range(rounds):
        # Addresses .11, .21, .12, .22, ...: every apply changes something.
        direct, by_process = 11 + i % 2, 21 + i % 2
        to_verified, to_reply = await clock.apply(eth_state("eth1", f"198.51.100.{direct}"))
        floor = await asyncio.to_thread(
            run_timed, _reapply("bench-eth2", "eth2", f"198.51.101.{direct}/24"), box.env
        )
        verified.add(to_verified, floor)
        whole.add(to_reply, floor)

        path = files / f"eth1-{i}.json"
        await asyncio.to_thread(path.write_text, eth_state("eth1", f"198.51.100.{by_process}"))
        value = await asyncio.to_thread(run_timed, [[NMSTATECTL, "apply", str(path)]], box.env)
        floor = await asyncio.to_thread(
            run_timed, _reapply("bench-eth2", "eth2", f"198.51.101.{by_process}/24"), box.env
        )
        process.add(value, floor)


BRIDGE = {
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
                "port": [{"name": "eth3"}, {"name": "eth4"}],
            },
        }
    ]
}


def _bridge_nmcli(name: str, address: str) -> list[list[str]]:
    add = ["nmcli", "connection", "add"]
    return [
        [*add, "type", "bridge", "ifname", name, "con-name", name, "bridge.stp", "no",
         "ipv4.method", "manual", "ipv4.addresses", address, "ipv6.method", "disabled",
         "autoconnect", "no"],
        [*add, "type", "ethernet", "ifname", "eth3", "con-name", f"{name}-eth3",
         "master", name, "slave-type", "bridge", "autoconnect", "no"],
        [*add, "type", "ethernet", "ifname", "eth4", "con-name", f"{name}-eth4",
         "master", name, "slave-type", "bridge", "autoconnect", "no"],
        ["nmcli", "connection", "up", name],
        ["nmcli", "connection", "up", f"{name}-eth3"],
        ["nmcli", "connection", "up", f"{name}-eth4"],
    ]  # fmt: skip


def _delete_profiles(box: Sandbox, *names: str) -> None:
    """Remove every profile of these interfaces (and their devices, if virtual)."""
    listed = box.nmcli("-t", "-f", "UUID,DEVICE,NAME", "connection", "show").stdout.splitlines()
    uuids = [
        line.split(":")[0]
        for line in listed
        if any(field in names for field in line.split(":")[1:])
    ]
    if uuids:
        box.nmcli("connection", "delete", *uuids)


async def bridge(box: Sandbox, rounds: int) -> dict[str, Any]:
    """A bridge, two ports and an address, from nothing."""
    paired = Paired()
    for _ in range(rounds):
        value = await apply_and_wait(box.bus_address, json.dumps(BRIDGE))
        await asyncio.to_thread(_delete_profiles, box, "br0", "eth3", "eth4")
        floor = await asyncio.to_thread(run_timed, _bridge_nmcli("br1", "203.0.113.2/24"), box.env)
        await asyncio.to_thread(_delete_profiles, box, "br1", "br1-eth3", "br1-eth4")
        paired.add(value, floor)
    return {"bridge_from_nothing": paired.result()}


def veth_state(pairs: int, present: bool, prefix: str = "bv", first_octet: int = 200) -> str:
    interfaces: list[dict[str, Any]] = []
    for i in range(pairs):
        if present:
            interfaces.append(
                {
                    "name": f"{prefix}{i}a",
                    "type": "veth",
                    "state": "up",
                    "veth": {"peer": f"{prefix}{i}b"},
                    "ipv4": {
                        "enabled": True,
                        "dhcp": False,
                        "address": [
                            {"ip": f"10.{first_octet + i // 16384}.{(i // 64) % 256}."
                                   f"{(i % 64) * 4 + 1}",
                             "prefix-length": 30}
                        ],
                    },
                    "ipv6": {"enabled": False},
                }
            )  # fmt: skip
        else:
            interfaces.append({"name": f"{prefix}{i}a", "type": "veth", "state": "absent"})
    return json.dumps({"interfaces": interfaces})


def _veth_nmcli(pairs: int) -> tuple[list[list[str]], list[list[str]]]:
    adds: list[list[str]] = []
    deletes: list[list[str]] = []
    for i in range(pairs):
        name = f"nv{i}"
        address = f"10.{220 + i // 16384}.{(i // 64) % 256}.{(i % 64) * 4 + 1}/30"
        adds.append(
            ["nmcli", "connection", "add", "type", "veth", "con-name", name, "ifname", f"{name}a",
             "veth.peer", f"{name}b", "ipv4.method", "manual", "ipv4.addresses", address,
             "ipv6.method", "disabled", "autoconnect", "no"]
        )  # fmt: skip
        adds.append(["nmcli", "connection", "up", name])
        deletes.append(["nmcli", "connection", "delete", name])
    return adds, deletes


async def veths(
    box: Sandbox, sizes: list[int], rounds: int, floor_sizes: list[int]
) -> dict[str, Any]:
    """N veth pairs with addresses, added in one request and removed in another.

    Besides the wall time, the CPU time nmstated and NetworkManager spent on
    nmstated's requests, per interface: what grows with N, and whose it is."""
    daemon = DaemonStats(box.processes["nmstated"][0])
    manager = DaemonStats(box.processes["NetworkManager"][0])
    out: dict[str, Any] = {}
    for pairs in sizes:
        add, remove, total = Paired(), Paired(), Paired()
        adds_alone: list[float] = []
        removes_alone: list[float] = []
        cpu = {"nmstated": 0.0, "NetworkManager": 0.0}
        for _ in range(rounds):
            cpu_before = (daemon.cpu_seconds(), manager.cpu_seconds())
            added = await apply_and_wait(box.bus_address, veth_state(pairs, True))
            removed = await apply_and_wait(box.bus_address, veth_state(pairs, False))
            cpu["nmstated"] += daemon.cpu_seconds() - cpu_before[0]
            cpu["NetworkManager"] += manager.cpu_seconds() - cpu_before[1]
            await asyncio.to_thread(
                _delete_profiles, box, *(f"bv{i}{s}" for i in range(pairs) for s in "ab")
            )
            if pairs in floor_sizes:
                nm_adds, nm_deletes = _veth_nmcli(pairs)
                add_floor = await asyncio.to_thread(run_timed, nm_adds, box.env)
                remove_floor = await asyncio.to_thread(run_timed, nm_deletes, box.env)
                add.add(added, add_floor)
                remove.add(removed, remove_floor)
                total.add(added + removed, add_floor + remove_floor)
            else:
                adds_alone.append(added)
                removes_alone.append(removed)
        figures: dict[str, Any]
        if pairs in floor_sizes:
            figures = {"add": add.result(), "remove": remove.result(), "total": total.result()}
            adds_alone, removes_alone = add.values, remove.values
        else:
            figures = {
                "add": {"value": spread(adds_alone)},
                "remove": {"value": spread(removes_alone)},
            }
        interfaces = 2 * pairs
        figures["per_interface_ms"] = {
            "add": round(1000 * statistics.median(adds_alone) / interfaces, 2),
            "remove": round(1000 * statistics.median(removes_alone) / interfaces, 2),
        }
        figures["cpu_per_interface_ms"] = {
            who: round(1000 * seconds / rounds / interfaces, 2) for who, seconds in cpu.items()
        }
        out[str(pairs)] = figures
    return {"veth_pairs": out}


async def crowd(box: Sandbox, crowd_pairs: int, probe_pairs: int, rounds: int) -> dict[str, Any]:
    """*probe_pairs* pairs added and removed alone, then beside *crowd_pairs* other pairs.

    Per interface of the probe: wall time and the CPU time of nmstated and
    NetworkManager.  What grows with the crowd is a cost per existing
    interface, paid for each new one."""
    daemon = DaemonStats(box.processes["nmstated"][0])
    manager = DaemonStats(box.processes["NetworkManager"][0])
    interfaces = 2 * probe_pairs

    async def probe() -> dict[str, float]:
        walls: list[float] = []
        cpu = {"nmstated": 0.0, "NetworkManager": 0.0}
        for _ in range(rounds):
            before = (daemon.cpu_seconds(), manager.cpu_seconds())
            added = await apply_and_wait(box.bus_address, veth_state(probe_pairs, True, "bp", 240))
            removed = await apply_and_wait(
                box.bus_address, veth_state(probe_pairs, False, "bp", 240)
            )
            cpu["nmstated"] += daemon.cpu_seconds() - before[0]
            cpu["NetworkManager"] += manager.cpu_seconds() - before[1]
            walls.append(added + removed)
            await asyncio.to_thread(
                _delete_profiles, box, *(f"bp{i}{s}" for i in range(probe_pairs) for s in "ab")
            )
        return {
            "wall_ms": round(1000 * statistics.median(walls) / interfaces, 2),
            **{f"cpu_{who}_ms": round(1000 * t / rounds / interfaces, 2) for who, t in cpu.items()},
        }

    alone = await probe()
    await apply_and_wait(box.bus_address, veth_state(crowd_pairs, True, "bc", 230))
    try:
        crowded = await probe()
    finally:
        await apply_and_wait(box.bus_address, veth_state(crowd_pairs, False, "bc", 230))
        await asyncio.to_thread(
            _delete_profiles, box, *(f"bc{i}{s}" for i in range(crowd_pairs) for s in "ab")
        )
    return {
        "probe_interfaces": interfaces,
        "crowd_interfaces": 2 * crowd_pairs,
        "alone": alone,
        "crowded": crowded,
    }

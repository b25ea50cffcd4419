"""Show on a small host: the D-Bus call, ``nmstatectl show`` as a process, idle memory.

The sandbox gets a small but typical configuration first (through
nmstated): eth1 with an address, a bridge over eth3 and eth4 with an
address, a veth pair — with lo and eth2 about ten interfaces.

* ``Show`` (full state, JSON) over D-Bus, each round followed by its
  floor: ``ip -j addr`` and ``ip -j route show table all`` as processes in
  the same namespace.
* ``nmstatectl show`` (YAML, its default) and ``nmstatectl show --json``
  as whole processes, each round followed by the floor ``ip -j addr``,
  ``ip -j route`` and ``nmcli -t dev`` as processes.
* The daemon's resident memory after start and after these rounds.

At scale (``measure_scale``: 1,000 interfaces, 10,000 routes, set up as in
bench/scale.py) Show is timed twice per round, each next to the same floor:
with nothing changed since the last Show (what it reuses, see
nmstated/reuse.py, stays valid) and right after one route was added or
removed (everything is built again).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from bench.common import DaemonStats, Subscriber, ip_batch, leave_alone, mib
from bench.paired import Paired, run_timed
from bench.scale import setup_commands
from sandbox import Sandbox
from sandbox.core import REPO

NMSTATECTL = str(Path(sys.executable).with_name("nmstatectl"))

SMALL_HOST = """
interfaces:
- name: eth1
  type: ethernet
  state: up
  ipv4: {enabled: true, dhcp: false, address: [{ip: 198.51.100.10, prefix-length: 24}]}
  ipv6: {enabled: false}
- name: br0
  type: linux-bridge
  state: up
  ipv4: {enabled: true, dhcp: false, address: [{ip: 203.0.113.1, prefix-length: 24}]}
  ipv6: {enabled: false}
  bridge:
    options: {stp: {enabled: false}}
    port: [{name: eth3}, {name: eth4}]
- name: vsmall0
  type: veth
  state: up
  veth: {peer: vsmall1}
  ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.1, prefix-length: 30}]}
  ipv6: {enabled: false}
"""


def byte_compile() -> None:
    """Our modules as installed: pip and distro packages ship them compiled.

    (This environment may set PYTHONDONTWRITEBYTECODE, which would make every
    client start compile the client's modules again.)"""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "client"), str(REPO / "nmstated")],
        check=True,
        capture_output=True,
    )


async def apply_and_wait(address: str, state: str) -> float:
    """ApplyAndWait over D-Bus; its duration (s).  Raises if the job did not succeed."""
    bus = await MessageBus(bus_address=address).connect()
    try:
        started = time.perf_counter()
        reply = await bus.call(
            Message(
                destination="org.nmstate",
                path="/org/nmstate",
                interface="org.nmstate.Manager",
                member="ApplyAndWait",
                signature="sa{sv}",
                body=[state, {}],
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        bus.disconnect()
    assert reply is not None
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"apply failed: {reply.error_name}: {reply.body}")
    return elapsed


def ip_floor(box: Sandbox) -> list[list[str]]:
    return [
        ["ip", "-n", box.netns, "-j", "addr"],
        ["ip", "-n", box.netns, "-j", "route", "show", "table", "all"],
    ]


async def measure(box: Sandbox, rounds: int) -> dict[str, Any]:
    byte_compile()
    stats = DaemonStats(box.processes["nmstated"][0])
    rss_started = stats.rss_bytes()
    await apply_and_wait(box.bus_address, SMALL_HOST)
    sub = Subscriber(box.bus_address)
    await sub.start()
    try:
        _, state = await sub.show()
        show = Paired()
        for _ in range(rounds):
            elapsed, _ = await sub.show()
            show.add(elapsed, await asyncio.to_thread(run_timed, ip_floor(box)))
    finally:
        sub.close()

    floor = [*ip_floor(box)[:1], ["ip", "-n", box.netns, "-j", "route"], ["nmcli", "-t", "dev"]]
    process: dict[str, Paired] = {"yaml": Paired(), "json": Paired()}
    for _ in range(rounds):
        for fmt, paired in process.items():
            cmd = [NMSTATECTL, "show"] + (["--json"] if fmt == "json" else [])
            value = await asyncio.to_thread(run_timed, [cmd], box.env)
            paired.add(value, await asyncio.to_thread(run_timed, floor, box.env))
    return {
        "interfaces": len(state["interfaces"]),
        "routes_running": len(state["routes"]["running"]),
        "show_dbus": show.result(),
        "nmstatectl_show_yaml": process["yaml"].result(),
        "nmstatectl_show_json": process["json"].result(),
        "daemon_rss_mib_after_start": mib(rss_started),
        "daemon_rss_mib_idle": mib(stats.rss_bytes()),
    }


async def measure_scale(box: Sandbox, pairs: int, routes: int, rounds: int) -> dict[str, Any]:
    leave_alone(box, "sc*")
    await asyncio.to_thread(ip_batch, box, setup_commands(pairs, routes))
    sub = Subscriber(box.bus_address)
    await sub.start()
    stats = DaemonStats(box.processes["nmstated"][0])
    try:
        _, state = await sub.show()  # settles: every event taken in
        unchanged, changed = Paired(), Paired()
        for i in range(rounds):
            elapsed, _ = await sub.show()
            unchanged.add(elapsed, await asyncio.to_thread(run_timed, ip_floor(box)))
            verb = "add" if i % 2 == 0 else "del"
            await asyncio.to_thread(ip_batch, box, [f"route {verb} 198.18.0.1/32 dev sc0a"])
            elapsed, _ = await sub.show()
            changed.add(elapsed, await asyncio.to_thread(run_timed, ip_floor(box)))
    finally:
        sub.close()
    return {
        "interfaces": len(state["interfaces"]),
        "routes_running": len(state["routes"]["running"]),
        "show_unchanged": unchanged.result(),
        "show_after_a_route_change": changed.result(),
        "daemon_rss_mib": mib(stats.rss_bytes()),
    }

"""Waiting in tests for things the system announces: job signals, kernel events.

Every wait subscribes first, then checks once, then re-checks only when an
event arrives, bounded by a generous limit that only a broken system hits.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from sandbox import Sandbox

JOB = "org.nmstate.Job"
PROPERTIES = "org.freedesktop.DBus.Properties"
NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
FINAL = frozenset({"succeeded", "failed", "rolled-back", "cancelled"})

JobProps = dict[str, Any]


async def _add_match(bus: MessageBus, rule: str) -> None:
    await bus.call(
        Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[rule],
        )
    )


async def _get_all(bus: MessageBus, destination: str, path: str, interface: str) -> JobProps:
    reply = await bus.call(
        Message(
            destination=destination,
            path=path,
            interface=PROPERTIES,
            member="GetAll",
            signature="s",
            body=[interface],
        )
    )
    assert reply is not None and reply.message_type == MessageType.METHOD_RETURN, reply
    return {k: v.value for k, v in reply.body[0].items()}


def wait_job(
    address: str, path: str, until: Callable[[JobProps], bool], timeout: float = 90.0
) -> JobProps:
    """A job's properties once *until* holds for them."""

    async def run() -> JobProps:
        bus = await MessageBus(bus_address=address).connect()
        changed = asyncio.Event()
        props: JobProps = {}

        def on_message(msg: Message) -> None:
            if msg.path == path and msg.member == "PropertiesChanged" and msg.body[0] == JOB:
                props.update({k: v.value for k, v in msg.body[1].items()})
                changed.set()

        try:
            bus.add_message_handler(on_message)
            await _add_match(
                bus,
                f"type='signal',sender='org.nmstate',path='{path}',member='PropertiesChanged'",
            )
            props.update(await _get_all(bus, "org.nmstate", path, JOB))
            async with asyncio.timeout(timeout):
                while not until(props):
                    changed.clear()
                    await changed.wait()
            return dict(props)
        finally:
            bus.disconnect()

    return asyncio.run(run())


def wait_job_state(address: str, path: str, states: frozenset[str] = FINAL) -> JobProps:
    return wait_job(address, path, lambda p: p.get("State") in states)


def nm_checkpoints(address: str) -> list[str]:
    async def run() -> list[str]:
        bus = await MessageBus(bus_address=address).connect()
        try:
            props = await _get_all(bus, NM, NM_PATH, NM)
            return list(props["Checkpoints"])
        finally:
            bus.disconnect()

    return asyncio.run(run())


def wait_kernel(box: Sandbox, check: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Re-run *check* after each address/link/route event in the sandbox; True once it holds."""
    monitor = subprocess.Popen(
        ["ip", "-n", box.netns, "monitor", "address", "link", "route"],
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    assert monitor.stdout is not None
    try:
        deadline = time.monotonic() + timeout
        while True:
            if check():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([monitor.stdout], [], [], remaining)
            if ready:
                os.read(monitor.stdout.fileno(), 65536)  # the events; we only re-check
    finally:
        monitor.terminate()
        monitor.wait()
        monitor.stdout.close()


class SignalRecorder:
    """Records org.nmstate's signals, in arrival order, from a thread of its own.

    ``with SignalRecorder(address) as rec:`` returns once subscribed;
    ``rec.wait(predicate)`` waits until the records satisfy *predicate*.
    Each record is ``(path, member, values)``: for PropertiesChanged the
    changed properties, for Finished ``{"State", "Error"}``.
    """

    def __init__(self, address: str) -> None:
        self._address = address
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> SignalRecorder:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the signal recorder did not subscribe")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def wait(
        self, done: Callable[[list[tuple[str, str, dict[str, Any]]]], bool], timeout: float = 120
    ) -> list[tuple[str, str, dict[str, Any]]]:
        with self._cond:
            if not self._cond.wait_for(lambda: done(self.records), timeout):
                raise TimeoutError(f"signals so far: {self.records}")
            return list(self.records)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        bus = await MessageBus(bus_address=self._address).connect()

        def on_message(msg: Message) -> None:
            if msg.message_type != MessageType.SIGNAL or msg.sender == "org.freedesktop.DBus":
                return
            if msg.member == "PropertiesChanged":
                values = {k: v.value for k, v in msg.body[1].items()}
            elif msg.member == "Finished":
                values = {"State": msg.body[0], "Error": (msg.body[1], msg.body[2])}
            else:
                values = {"body": list(msg.body)}
            with self._cond:
                self.records.append((msg.path or "", msg.member or "", values))
                self._cond.notify_all()

        try:
            bus.add_message_handler(on_message)
            await _add_match(bus, "type='signal',sender='org.nmstate'")
            self._ready.set()
            await self._stop.wait()
        finally:
            bus.disconnect()


def finished_jobs(records: list[tuple[str, str, dict[str, Any]]]) -> dict[str, str]:
    """Job path → final state, from Finished signals."""
    return {path: values["State"] for path, member, values in records if member == "Finished"}

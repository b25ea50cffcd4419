"""A small blocking D-Bus caller for tests (dbus-fast, like tool authors use)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus


@dataclass(frozen=True)
class Reply:
    error: str | None
    body: list[Any]

    @property
    def message(self) -> str:
        return str(self.body[0]) if self.body else ""


def call(
    address: str,
    member: str,
    signature: str = "",
    body: list[Any] | None = None,
    *,
    path: str = "/org/nmstate",
    interface: str = "org.nmstate.Manager",
    destination: str = "org.nmstate",
) -> Reply:
    async def run() -> Reply:
        bus = await MessageBus(bus_address=address).connect()
        try:
            reply = await bus.call(
                Message(
                    destination=destination,
                    path=path,
                    interface=interface,
                    member=member,
                    signature=signature,
                    body=body or [],
                )
            )
            assert reply is not None
            if reply.message_type == MessageType.ERROR:
                return Reply(reply.error_name, list(reply.body))
            return Reply(None, list(reply.body))
        finally:
            bus.disconnect()

    return asyncio.run(run())

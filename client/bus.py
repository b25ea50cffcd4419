"""nmstatectl's asyncio side of D-Bus (dbus-fast), for ``monitor`` only.

``monitor`` waits for signals for as long as it runs, which an event loop
does well.  The one-shot commands use client/api.py over a blocking
connection instead: starting asyncio and dbus-fast costs more than their
whole call.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from dbus_fast import BusType, Message, MessageFlag, MessageType
from dbus_fast.aio import MessageBus

from client.api import (
    BUS_NAME,
    FINAL_STATES,
    JOB,
    JOB_PATH_PREFIX,
    MANAGER,
    MANAGER_PATH,
    PROPERTIES,
    SETTLED_STATES,
    JobView,
    job_path,
)
from client.connection import DEFAULT_SYSTEM_BUS
from client.exits import UNAVAILABLE, ClientError, error_from_dbus

__all__ = [
    "BUS_NAME",
    "FINAL_STATES",
    "JOB",
    "JOB_PATH_PREFIX",
    "MANAGER",
    "MANAGER_PATH",
    "PROPERTIES",
    "SETTLED_STATES",
    "Connection",
    "JobView",
    "job_path",
]


class Connection:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    @classmethod
    async def open(cls) -> Connection:
        try:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError) as err:
            address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise ClientError(
                f"cannot reach the system bus at {address}: {reason}", UNAVAILABLE
            ) from None
        return cls(bus)

    def close(self) -> None:
        self.bus.disconnect()

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        changes: bool = False,
    ) -> list[Any]:
        """Call org.nmstate; *changes*: the call changes the network (needs authorization)."""
        interactive = changes and sys.stdin is not None and sys.stdin.isatty()
        reply = await self.bus.call(
            Message(
                destination=BUS_NAME,
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body or [],
                flags=MessageFlag.ALLOW_INTERACTIVE_AUTHORIZATION
                if interactive
                else MessageFlag.NONE,
            )
        )
        assert reply is not None  # only None for calls that expect no reply
        if reply.message_type == MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else ""
            raise error_from_dbus(reply.error_name or "", text)
        return list(reply.body)

    async def get(self, path: str, interface: str, name: str) -> Any:
        (value,) = await self.call(path, PROPERTIES, "Get", "ss", [interface, name])
        return value.value

    async def get_all(self, path: str, interface: str) -> dict[str, Any]:
        (props,) = await self.call(path, PROPERTIES, "GetAll", "s", [interface])
        return {name: value.value for name, value in props.items()}

    async def add_match(self, rule: str) -> None:
        await self.bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )

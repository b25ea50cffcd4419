"""nmstatectl's side of D-Bus: calls to org.nmstate and following jobs.

Waiting for a job subscribes to its signals *before* the call that creates
or changes it, then reads its properties once (it may already be done), then
waits for signals — so no change can be missed and nothing polls.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dbus_fast import BusType, Message, MessageFlag, MessageType, Variant
from dbus_fast.aio import MessageBus

from client.exits import UNAVAILABLE, ClientError, error_from_dbus

BUS_NAME = "org.nmstate"
MANAGER_PATH = "/org/nmstate"
MANAGER = "org.nmstate.Manager"
JOB = "org.nmstate.Job"
JOB_PATH_PREFIX = "/org/nmstate/job/"
PROPERTIES = "org.freedesktop.DBus.Properties"

FINAL_STATES = frozenset({"succeeded", "failed", "rolled-back", "cancelled"})
SETTLED_STATES = FINAL_STATES | {"awaiting-commit"}


@dataclass(frozen=True)
class JobView:
    """What a job's properties said when we last looked."""

    path: str
    props: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.props.get("Id", self.path.rsplit("/", 1)[-1]))

    @property
    def state(self) -> str:
        return str(self.props.get("State", ""))

    @property
    def error(self) -> tuple[str, str]:
        kind, message = self.props.get("Error", ("", ""))
        return str(kind), str(message)


class Connection:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    @classmethod
    async def open(cls) -> Connection:
        try:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError) as err:
            raise ClientError(f"cannot reach the system bus: {err}", UNAVAILABLE) from None
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
        # Like systemctl: only a user at a terminal can answer polkit's password prompt.
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

    async def manager(
        self, member: str, signature: str = "", *body: Any, changes: bool = False
    ) -> Any:
        reply = await self.call(
            MANAGER_PATH, MANAGER, member, signature, list(body), changes=changes
        )
        return reply[0] if reply else None

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

    async def show(self, names: Iterable[str], fmt: str, running_config: bool = False) -> str:
        options: dict[str, Variant] = {"format": Variant("s", fmt)}
        names = list(names)
        if names:
            options["interfaces"] = Variant("as", names)
        if running_config:
            options["running-config"] = Variant("b", True)
        return str(await self.manager("Show", "a{sv}", options))

    async def follow_jobs(self, on_change: Callable[[JobView, set[str]], None]) -> JobFollower:
        """Start receiving every job's changes; do this before acting on a job."""
        follower = JobFollower(self, on_change)
        self.bus.add_message_handler(follower.on_message)
        await self.add_match(
            f"type='signal',sender='{BUS_NAME}',interface='{PROPERTIES}',"
            f"member='PropertiesChanged',arg0='{JOB}'"
        )
        await self.add_match(f"type='signal',sender='{BUS_NAME}',interface='{JOB}'")
        return follower


class JobFollower:
    """Keeps the properties of the jobs we care about current, from signals."""

    def __init__(self, conn: Connection, on_change: Callable[[JobView, set[str]], None]) -> None:
        self._conn = conn
        self._on_change = on_change
        self._props: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Event()

    def on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL or not (msg.path or "").startswith(
            JOB_PATH_PREFIX
        ):
            return
        path = msg.path or ""
        if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            changed = {name: value.value for name, value in msg.body[1].items()}
        elif msg.interface == JOB and msg.member == "Finished":
            state, kind, message = msg.body
            changed = {"State": state, "Error": (kind, message)}
        else:
            return
        self._merge(path, changed)

    def _merge(self, path: str, changed: dict[str, Any]) -> None:
        props = self._props.setdefault(path, {})
        names = {name for name, value in changed.items() if props.get(name) != value}
        props.update(changed)
        if names:
            self._on_change(JobView(path, dict(props)), names)
            self._changed.set()

    async def wait(self, path: str, states: frozenset[str]) -> JobView:
        """The job once its State is one of *states*."""
        self._merge(path, await self._conn.get_all(path, JOB))
        while True:
            view = JobView(path, dict(self._props[path]))
            if view.state in states:
                return view
            self._changed.clear()
            await self._changed.wait()


def job_path(job: str) -> str:
    """A job named by its number or its object path → its object path."""
    if job.isdigit():
        return f"{JOB_PATH_PREFIX}{int(job)}"
    if job.startswith(JOB_PATH_PREFIX) and job[len(JOB_PATH_PREFIX) :].isdigit():
        return job
    raise ValueError(f"'{job}' is not a job number or {JOB_PATH_PREFIX}N path")

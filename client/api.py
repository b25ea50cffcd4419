"""org.nmstate as nmstatectl's one-shot commands use it, over a blocking connection.

Waiting for a job subscribes to its signals *before* the call that creates
or changes it, then reads its properties once (it may already be done), then
waits for signals — so no change can be missed and nothing polls.  If
nmstated leaves the bus meanwhile, the wait ends with an error instead of
lasting forever.
"""

from __future__ import annotations

import sys
from collections import namedtuple

from client import wire
from client.connection import BusError, BusUnreachable, Connection
from client.exits import UNAVAILABLE, ClientError, error_from_dbus
from client.wire import Message, Variant

TYPE_CHECKING = False  # see client/wire.py: no typing import at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

BUS_NAME = "org.nmstate"
MANAGER_PATH = "/org/nmstate"
MANAGER = "org.nmstate.Manager"
JOB = "org.nmstate.Job"
JOB_PATH_PREFIX = "/org/nmstate/job/"
PROPERTIES = "org.freedesktop.DBus.Properties"

FINAL_STATES = frozenset({"succeeded", "failed", "rolled-back", "cancelled"})
SETTLED_STATES = FINAL_STATES | {"awaiting-commit"}


class JobView(namedtuple("JobView", "path props")):
    """What a job's properties said when we last looked (path, props)."""

    __slots__ = ()

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


def job_path(job: str) -> str:
    """A job named by its number or its object path → its object path."""
    if job.isdigit():
        return f"{JOB_PATH_PREFIX}{int(job)}"
    if job.startswith(JOB_PATH_PREFIX) and job[len(JOB_PATH_PREFIX) :].isdigit():
        return job
    raise ValueError(f"'{job}' is not a job number or {JOB_PATH_PREFIX}N path")


class Nmstate:
    """Calls to org.nmstate; errors become ClientError (one line, an exit code)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls) -> Nmstate:
        try:
            return cls(Connection.system_bus())
        except BusUnreachable as err:
            raise ClientError(
                f"cannot reach the system bus at {err.target}: {err.reason}", UNAVAILABLE
            ) from None
        except (OSError, ValueError) as err:
            raise ClientError(f"cannot reach the system bus: {err}", UNAVAILABLE) from None

    def close(self) -> None:
        self.conn.close()

    def call(
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
        flags = wire.ALLOW_INTERACTIVE_AUTHORIZATION if interactive else 0
        try:
            return self.conn.call(BUS_NAME, path, interface, member, signature, body, flags=flags)
        except BusError as err:
            raise error_from_dbus(err.name, err.text) from None
        except OSError as err:
            raise ClientError(f"lost the system bus: {err}", UNAVAILABLE) from None

    def manager(self, member: str, signature: str = "", *body: Any, changes: bool = False) -> Any:
        reply = self.call(MANAGER_PATH, MANAGER, member, signature, list(body), changes=changes)
        return reply[0] if reply else None

    def get(self, path: str, interface: str, name: str) -> Any:
        (value,) = self.call(path, PROPERTIES, "Get", "ss", [interface, name])
        return value.value

    def get_all(self, path: str, interface: str) -> dict[str, Any]:
        (props,) = self.call(path, PROPERTIES, "GetAll", "s", [interface])
        return {name: value.value for name, value in props.items()}

    def show(self, names: Iterable[str], fmt: str, running_config: bool = False) -> str:
        """The current state as nmstated writes it (*fmt*: json or yaml)."""
        options: dict[str, Variant] = {"format": Variant("s", fmt)}
        names = list(names)
        if names:
            options["interfaces"] = Variant("as", names)
        if running_config:
            options["running-config"] = Variant("b", True)
        return str(self.manager("Show", "a{sv}", options))

    def follow_jobs(self, on_change: Callable[[JobView, set[str]], None]) -> JobFollower:
        """Start receiving every job's changes; do this before acting on a job."""
        follower = JobFollower(self, on_change)
        self.conn.signal_handlers.append(follower.on_signal)
        try:
            self.conn.add_match(
                f"type='signal',sender='{BUS_NAME}',interface='{PROPERTIES}',"
                f"member='PropertiesChanged',arg0='{JOB}'"
            )
            self.conn.add_match(f"type='signal',sender='{BUS_NAME}',interface='{JOB}'")
            self.conn.add_match(
                "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                f"member='NameOwnerChanged',arg0='{BUS_NAME}'"
            )
        except BusError as err:
            raise error_from_dbus(err.name, err.text) from None
        return follower


class JobFollower:
    """Keeps the properties of the jobs we care about current, from signals."""

    def __init__(self, api: Nmstate, on_change: Callable[[JobView, set[str]], None]) -> None:
        self._api = api
        self._on_change = on_change
        self._props: dict[str, dict[str, Any]] = {}
        self._gone = False

    def on_signal(self, msg: Message) -> None:
        if msg.member == "NameOwnerChanged" and msg.body[:1] == [BUS_NAME] and not msg.body[2]:
            self._gone = True
            return
        path = msg.path or ""
        if not path.startswith(JOB_PATH_PREFIX):
            return
        if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            changed = {name: value.value for name, value in msg.body[1].items()}
        elif msg.interface == JOB and msg.member == "Finished":
            state, kind, message = msg.body
            changed = {"State": state, "Error": [kind, message]}  # a struct reads as a list
        else:
            return
        self._merge(path, changed)

    def _merge(self, path: str, changed: dict[str, Any]) -> None:
        props = self._props.setdefault(path, {})
        names = {name for name, value in changed.items() if props.get(name) != value}
        props.update(changed)
        if names:
            self._on_change(JobView(path, dict(props)), names)

    def wait(self, path: str, states: frozenset[str]) -> JobView:
        """The job once its State is one of *states*."""
        # Every signal read before this reply is older than it: merged first.
        self._merge(path, self._api.get_all(path, JOB))
        while True:
            view = JobView(path, dict(self._props[path]))
            if view.state in states:
                return view
            if self._gone:
                raise ClientError("nmstated stopped before the job ended", UNAVAILABLE)
            try:
                self._api.conn.receive()
            except OSError as err:
                raise ClientError(f"lost the system bus: {err}", UNAVAILABLE) from None

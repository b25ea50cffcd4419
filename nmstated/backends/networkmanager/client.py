"""NetworkManager over D-Bus: raw calls, signal waits, one error translation.

We send plain messages instead of building introspected proxies: a proxy
costs an Introspect round trip per object, and NetworkManager has many.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from nmstated.errors import BackendError, Conflict, NmstateError, NotSupported, Timeout

log = logging.getLogger(__name__)

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
SETTINGS = NM + ".Settings"
SETTINGS_PATH = NM_PATH + "/Settings"
CONNECTION = SETTINGS + ".Connection"
DEVICE = NM + ".Device"
ACTIVE = NM + ".Connection.Active"
PROPS = "org.freedesktop.DBus.Properties"

Settings = dict[str, dict[str, Variant]]
# AddConnection2/Update2 flag: no autoconnect until the profile is activated by hand.
BLOCK_AUTOCONNECT = 0x20


class DeviceState:
    UNMANAGED = 10
    UNAVAILABLE = 20
    DISCONNECTED = 30
    ACTIVATED = 100
    DEACTIVATING = 110
    FAILED = 120


class ActiveState:
    ACTIVATING = 1
    ACTIVATED = 2
    DEACTIVATING = 3
    DEACTIVATED = 4


def translate_error(err: DBusError, doing: str) -> NmstateError:
    """The one place NetworkManager's D-Bus errors become ours."""
    reason = " ".join(str(err.text).split())
    name = err.type or ""
    if name.endswith("NetworkManager.InvalidArguments") and "checkpoint" in reason.lower():
        return Conflict(f"{doing}: {reason}")
    if name.endswith(".NotSupported") or "not supported" in reason.lower():
        return NotSupported(f"{doing}: NetworkManager says: {reason}")
    if name == "org.freedesktop.DBus.Error.ServiceUnknown":
        return BackendError(f"{doing}: NetworkManager is not running")
    return BackendError(f"{doing}: NetworkManager says: {reason}")


def unwrap(value: Any) -> Any:
    """A D-Bus value without its Variant wrappers, however deeply nested."""
    if isinstance(value, Variant):
        return unwrap(value.value)
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class Device:
    path: str
    name: str
    state: int
    managed: bool
    device_type: int
    active_connection: str
    real: bool

    @property
    def is_active(self) -> bool:
        return self.active_connection != "/"


class NetworkManagerClient:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._signal_watchers: list[Callable[[Message], None]] = []
        self._match_added = False
        self._signal_count = 0
        self._signal_waiters: set[asyncio.Future[None]] = set()

    # -- plumbing ------------------------------------------------------------
    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        doing: str | None = None,
    ) -> list[Any]:
        reply = await self._bus.call(
            Message(
                destination=NM,
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body or [],
            )
        )
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            err = DBusError(reply.error_name or "", str(reply.body[0]) if reply.body else "")
            raise translate_error(err, doing or member)
        return list(reply.body)

    async def get_all(self, path: str, interface: str) -> dict[str, Any]:
        (props,) = await self.call(path, PROPS, "GetAll", "s", [interface])
        return {k: v.value for k, v in props.items()}

    async def get_property(self, path: str, interface: str, name: str) -> Any:
        (value,) = await self.call(path, PROPS, "Get", "ss", [interface, name])
        return value.value

    async def subscribe(self) -> None:
        """Receive NetworkManager's signals; do this before any action we wait on."""
        if self._match_added:
            return
        self._bus.add_message_handler(self._on_message)
        await self._bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[f"type='signal',sender='{NM}'"],
            )
        )
        # NetworkManager going away or restarting: the bus tells, NetworkManager cannot.
        await self._bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[
                    "type='signal',sender='org.freedesktop.DBus',"
                    f"member='NameOwnerChanged',arg0='{NM}'"
                ],
            )
        )
        self._match_added = True

    async def watch(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        """Call *callback* with every NetworkManager signal (and NameOwnerChanged for
        its name) until the returned function is called."""
        await self.subscribe()
        self._signal_watchers.append(callback)
        return lambda: self._signal_watchers.remove(callback)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL:
            return
        self._signal_count += 1
        for waiter in self._signal_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._signal_waiters.clear()
        for watcher in list(self._signal_watchers):
            watcher(msg)

    @property
    def signal_generation(self) -> int:
        """Increases with every signal NetworkManager sends (once subscribed)."""
        return self._signal_count

    async def wait_for_signal(self, since: int, timeout: float) -> bool:
        """Wait until NetworkManager signalled anything after generation *since*."""
        if self._signal_count != since:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._signal_waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._signal_waiters.discard(waiter)
        return True

    # -- reading --------------------------------------------------------------
    async def version(self) -> str:
        return str(await self.get_property(NM_PATH, NM, "Version"))

    async def devices(self) -> dict[str, Device]:
        (paths,) = await self.call(NM_PATH, NM, "GetAllDevices")
        results = await asyncio.gather(
            *(self.get_all(p, DEVICE) for p in paths), return_exceptions=True
        )
        devices: dict[str, Device] = {}
        for path, props in zip(paths, results, strict=True):
            if isinstance(props, BaseException):
                if isinstance(props, NmstateError):
                    continue  # removed between the list and the read
                raise props
            dev = Device(
                path=path,
                name=props["Interface"],
                state=props["State"],
                managed=props["Managed"],
                device_type=props["DeviceType"],
                active_connection=props["ActiveConnection"],
                real=props.get("Real", True),
            )
            # A placeholder device of an unrealised profile shares the name; prefer the real one.
            if dev.name not in devices or dev.real:
                devices[dev.name] = dev
        return devices

    async def connections(self) -> dict[str, Settings]:
        """Every saved profile, by object path."""
        (paths,) = await self.call(SETTINGS_PATH, SETTINGS, "ListConnections")
        results = await asyncio.gather(
            *(self.call(p, CONNECTION, "GetSettings", doing="reading profiles") for p in paths),
            return_exceptions=True,
        )
        profiles: dict[str, Settings] = {}
        for path, body in zip(paths, results, strict=True):
            if isinstance(body, BaseException):
                if isinstance(body, NmstateError):
                    continue  # deleted between the list and the read
                raise body
            profiles[path] = body[0]
        return profiles

    async def applied_connection(self, device: str) -> tuple[Settings, int]:
        settings, version = await self.call(device, DEVICE, "GetAppliedConnection", "u", [0])
        return settings, version

    # -- profiles ---------------------------------------------------------------
    async def add_connection(
        self, settings: Settings, *, to_disk: bool, block_autoconnect: bool = False
    ) -> str:
        """Add a profile; *block_autoconnect* keeps NetworkManager from activating it on its own."""
        flags = (0x1 if to_disk else 0x2) | (BLOCK_AUTOCONNECT if block_autoconnect else 0)
        path, _ = await self.call(
            SETTINGS_PATH,
            SETTINGS,
            "AddConnection2",
            "a{sa{sv}}ua{sv}",
            [settings, flags, {}],
            doing=f"adding profile {_profile_name(settings)}",
        )
        return str(path)

    async def update_connection(
        self, path: str, settings: Settings, *, to_disk: bool, block_autoconnect: bool = False
    ) -> None:
        flags = (0x1 if to_disk else 0x2) | (BLOCK_AUTOCONNECT if block_autoconnect else 0)
        await self.call(
            path,
            CONNECTION,
            "Update2",
            "a{sa{sv}}ua{sv}",
            [settings, flags, {}],
            doing=f"updating profile {_profile_name(settings)}",
        )

    async def delete_connection(self, path: str) -> None:
        await self.call(path, CONNECTION, "Delete", doing="deleting a profile")

    # -- devices ------------------------------------------------------------------
    async def activate(self, connection: str, device: str, name: str, timeout: float) -> None:
        """Activate and wait for the result, told by NetworkManager's signals."""
        await self.subscribe()
        states: dict[str, asyncio.Future[tuple[int, int]]] = {}
        loop = asyncio.get_running_loop()

        def watch(msg: Message) -> None:
            if msg.interface == ACTIVE and msg.member == "StateChanged" and msg.path:
                state, reason = msg.body
                if state in (ActiveState.ACTIVATED, ActiveState.DEACTIVATED):
                    fut = states.setdefault(msg.path, loop.create_future())
                    if not fut.done():
                        fut.set_result((state, reason))

        self._signal_watchers.append(watch)
        try:
            (active,) = await self.call(
                NM_PATH,
                NM,
                "ActivateConnection",
                "ooo",
                [connection, device, "/"],
                doing=f"activating {name}",
            )
            fut = states.setdefault(active, loop.create_future())
            if not fut.done():
                # The signal may have gone out before we knew the path: ask once.
                # (It may also arrive while we ask, or the object be gone already.)
                try:
                    current = await self.get_property(active, ACTIVE, "State")
                except NmstateError:
                    if not fut.done():
                        raise
                else:
                    final = current in (ActiveState.ACTIVATED, ActiveState.DEACTIVATED)
                    if final and not fut.done():
                        fut.set_result((current, 0))
            try:
                state, reason = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                raise Timeout(f"{name}: not activated within {timeout:.0f} s") from None
            if state != ActiveState.ACTIVATED:
                raise BackendError(
                    f"{name}: activation failed ({ACTIVE_REASONS.get(reason, f'reason {reason}')})"
                )
        finally:
            self._signal_watchers.remove(watch)

    async def reapply(self, device: str, name: str) -> None:
        await self.call(
            device, DEVICE, "Reapply", "a{sa{sv}}tu", [{}, 0, 0], doing=f"reapplying {name}"
        )

    async def disconnect(self, device: Device, timeout: float) -> None:
        await self.subscribe()
        done = asyncio.get_running_loop().create_future()

        def watch(msg: Message) -> None:
            if (
                msg.path == device.path
                and msg.interface == DEVICE
                and msg.member == "StateChanged"
                and msg.body[0] <= DeviceState.DISCONNECTED
                and not done.done()
            ):
                done.set_result(None)

        self._signal_watchers.append(watch)
        try:
            await self.call(device.path, DEVICE, "Disconnect", doing=f"deactivating {device.name}")
            if await self.get_property(device.path, DEVICE, "State") <= DeviceState.DISCONNECTED:
                return
            try:
                await asyncio.wait_for(done, timeout)
            except TimeoutError:
                raise Timeout(f"{device.name}: not deactivated within {timeout:.0f} s") from None
        finally:
            self._signal_watchers.remove(watch)

    async def delete_device(self, device: Device) -> None:
        await self.call(device.path, DEVICE, "Delete", doing=f"deleting {device.name}")

    # -- checkpoints ----------------------------------------------------------------
    async def checkpoints(self) -> list[str]:
        return list(await self.get_property(NM_PATH, NM, "Checkpoints"))

    async def checkpoint_create(self, timeout: int, flags: int) -> str:
        try:
            (path,) = await self.call(
                NM_PATH,
                NM,
                "CheckpointCreate",
                "aouu",
                [[], timeout, flags],
                doing="creating a checkpoint",
            )
        except (BackendError, Conflict) as err:
            others = await self.checkpoints()
            if others:
                raise Conflict(
                    f"another checkpoint exists ({', '.join(others)}); nothing was changed"
                ) from err
            raise
        return str(path)

    async def checkpoint_destroy(self, path: str) -> None:
        await self.call(NM_PATH, NM, "CheckpointDestroy", "o", [path], doing="committing")

    async def checkpoint_rollback(self, path: str) -> dict[str, int]:
        (result,) = await self.call(
            NM_PATH, NM, "CheckpointRollback", "o", [path], doing="rolling back"
        )
        return dict(result)


def _profile_name(settings: Settings) -> str:
    conn = settings.get("connection", {})
    name = conn.get("interface-name") or conn.get("id")
    return str(name.value) if name is not None else "?"


# NMActiveConnectionStateReason, as NetworkManager documents it.
ACTIVE_REASONS = {
    0: "unknown reason",
    1: "no reason given",
    2: "the user disconnected it",
    3: "the device disconnected",
    4: "the service providing the VPN connection was stopped",
    5: "the IP configuration was invalid",
    6: "the connection attempt timed out",
    7: "the service failed to start in time",
    8: "the service failed to start",
    9: "necessary secrets were not provided",
    10: "authentication failed",
    11: "the connection was deleted",
    12: "the controller or parent failed",
    13: "the device was removed",
    14: "a dependency failed",
}

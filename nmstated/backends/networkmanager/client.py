"""NetworkManager over D-Bus: raw calls, signal waits, one error translation.

We send plain messages instead of building introspected proxies: a proxy
costs an Introspect round trip per object, and NetworkManager has many.
Devices, active connections and profiles are read from an in-memory copy
kept current from NetworkManager's signals (``objects.ObjectCache``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from dbus_fast import DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from nmstated.backends.networkmanager.objects import ObjectCache
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
PEER = "org.freedesktop.DBus.Peer"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
OBJECT_MANAGER_PATH = "/org/freedesktop"
# Calls in flight at once when one is needed per object: the bus allows each
# connection a bounded number of pending replies (128 by default).
MAX_IN_FLIGHT = 32

Settings = dict[str, dict[str, Variant]]
T = TypeVar("T")
VETH = NM + ".Device.Veth"
# AddConnection2/Update2 flag: no autoconnect until the profile is activated by hand.
BLOCK_AUTOCONNECT = 0x20


class DeviceState:
    UNMANAGED = 10
    UNAVAILABLE = 20
    DISCONNECTED = 30
    IP_CONFIG = 70
    ACTIVATED = 100
    DEACTIVATING = 110
    FAILED = 120


class ActiveState:
    ACTIVATING = 1
    ACTIVATED = 2
    DEACTIVATING = 3
    DEACTIVATED = 4


class ActivationFlag:
    """NMActivationStateFlags (Connection.Active's StateFlags)."""

    IS_CONTROLLER = 0x1  # NetworkManager calls it IS_MASTER
    LAYER2_READY = 0x4
    IP4_READY = 0x8
    IP6_READY = 0x10


# A family's "ready" flag, by IP version.
_IP_READY = {4: ActivationFlag.IP4_READY, 6: ActivationFlag.IP6_READY}


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


async def add_match(bus: MessageBus, rule: str) -> None:
    """Ask the bus daemon to route the signals matching *rule* to us."""
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
        self._objects = ObjectCache()
        # Device path -> (what it was fetched for, its applied settings).
        self._applied: dict[str, tuple[tuple[object, ...], Settings]] = {}
        self._reapplies = 0  # a fetch that overlapped a Reapply is not kept

    @property
    def bus(self) -> MessageBus:
        """The connection, for the few calls that go to other services (e.g. hostnamed)."""
        return self._bus

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
        self._bus.add_message_handler(self._objects.on_message)
        self._bus.add_message_handler(self._on_message)
        await add_match(self._bus, f"type='signal',sender='{NM}'")
        # NetworkManager going away or restarting: the bus tells, NetworkManager cannot.
        await add_match(
            self._bus,
            f"type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{NM}'",
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

    async def _objects_current(self) -> ObjectCache:
        """The object copy, loaded, and holding every change NetworkManager made
        before this call (a Ping barrier: its signals come before its reply)."""
        await self.subscribe()
        if self._objects.loaded:
            await self.call(NM_PATH, PEER, "Ping", doing="reading NetworkManager's objects")
            return self._objects
        for _ in range(3):  # NetworkManager may restart while we load
            msg = Message(
                destination=NM,
                path=OBJECT_MANAGER_PATH,
                interface=OBJECT_MANAGER,
                member="GetManagedObjects",
            )
            msg.serial = self._bus.next_serial()
            self._objects.loading(msg.serial)
            reply = await self._bus.call(msg)
            assert reply is not None
            if reply.message_type == MessageType.ERROR:
                text = str(reply.body[0]) if reply.body else ""
                err = DBusError(reply.error_name or "", text)
                raise translate_error(err, "reading NetworkManager's objects")
            if self._objects.loaded:
                return self._objects
        raise BackendError("reading NetworkManager's objects: NetworkManager keeps restarting")

    async def devices(self) -> dict[str, Device]:
        objects = await self._objects_current()
        devices: dict[str, Device] = {}
        for path in objects.paths(DEVICE):
            dev = _device(path, objects.props(path, DEVICE))
            # A placeholder device of an unrealised profile shares the name; prefer the real one.
            if dev.name not in devices or dev.real:
                devices[dev.name] = dev
        return devices

    async def device_named(self, name: str) -> Device | None:
        """``devices().get(name)`` without building every device (a removal per
        interface of a large request asks this once each)."""
        objects = await self._objects_current()
        found: Device | None = None
        for path in objects.paths(DEVICE):
            props = objects.props(path, DEVICE)
            if props is not None and props["Interface"] == name:
                dev = _device(path, props)
                if found is None or dev.real:
                    found = dev
        return found

    async def connections(self) -> dict[str, Settings]:
        """Every saved profile, by object path (settings fetched once, until changed)."""
        objects = await self._objects_current()
        paths = objects.paths(CONNECTION)
        missing = [path for path in paths if objects.settings(path) is None]
        versions = {path: objects.settings_version(path) for path in missing}
        results = await self._bounded(
            [self.call(p, CONNECTION, "GetSettings", doing="reading profiles") for p in missing]
        )
        fetched: dict[str, Settings] = {}
        for path, body in zip(missing, results, strict=True):
            if isinstance(body, BaseException):
                if isinstance(body, NmstateError):
                    continue  # deleted between the list and the read
                raise body
            fetched[path] = body[0]
            objects.keep_settings(path, body[0], versions[path])
        profiles: dict[str, Settings] = {}
        for path in paths:
            settings = fetched.get(path) or objects.settings(path)
            if settings is not None:  # callers build on copies, never on the kept one
                profiles[path] = {name: dict(values) for name, values in settings.items()}
        return profiles

    async def active_profile(self, active_connection: str) -> str | None:
        """The profile an active connection runs (None: it is gone)."""
        props = (await self._objects_current()).props(active_connection, ACTIVE)
        return None if props is None else str(props["Connection"])

    async def veth_peer(self, device: str) -> str | None:
        """The object path of a veth's other end (None: not known to NetworkManager)."""
        props = (await self._objects_current()).props(device, VETH)
        return None if props is None else str(props["Peer"])

    @staticmethod
    async def _bounded(calls: list[Coroutine[Any, Any, T]]) -> list[T | BaseException]:
        """Run *calls* with at most MAX_IN_FLIGHT at once; results (or errors) in order."""
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)

        async def one(call: Coroutine[Any, Any, T]) -> T:
            async with gate:
                return await call

        return await asyncio.gather(*(one(c) for c in calls), return_exceptions=True)

    async def applied_connection(self, device: str) -> tuple[Settings, int]:
        settings, version = await self.call(device, DEVICE, "GetAppliedConnection", "u", [0])
        return settings, version

    async def applied_settings(self, devices: Sequence[Device]) -> dict[str, Settings]:
        """Device path -> the settings applied on it, for those of *devices* that
        have an active connection (a device whose call fails is left out).

        Kept per device while its active connection and that profile's
        settings are unchanged: NetworkManager sets applied settings when it
        activates a profile and on Reapply, which nmstated (like nmcli) sends
        after updating the profile.  So a Show of a thousand active devices
        asks NetworkManager for the few that changed, not a thousand times,
        and never more than MAX_IN_FLIGHT at once.  A Reapply with settings
        that are not the profile's (``nmcli device modify``) is seen at the
        next activation or change of the profile.
        """
        objects = await self._objects_current()
        wanted: dict[str, tuple[object, ...]] = {}
        for device in devices:
            active = device.active_connection
            props = objects.props(active, ACTIVE) if active and active != "/" else None
            if props is None:
                continue
            profile = str(props["Connection"])
            wanted[device.path] = (active, profile, objects.settings_version(profile))
        missing = [
            path for path, key in wanted.items() if self._applied.get(path, (None,))[0] != key
        ]
        reapplies = self._reapplies
        answers = await self._bounded([self.applied_connection(path) for path in missing])
        fetched: dict[str, Settings] = {}
        for path, answer in zip(missing, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, NmstateError):
                    raise answer
                self._applied.pop(path, None)
                continue
            fetched[path] = answer[0]
            if reapplies == self._reapplies:
                self._applied[path] = (wanted[path], answer[0])
        if len(self._applied) > 2 * len(objects.paths(DEVICE)) + 64:  # devices come and go
            known = set(objects.paths(DEVICE))
            self._applied = {p: v for p, v in self._applied.items() if p in known}
        result: dict[str, Settings] = {}
        for path in wanted:
            settings = fetched.get(path)
            if settings is None and path in self._applied:
                settings = self._applied[path][1]
            if settings is not None:
                result[path] = settings
        return result

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
    async def activate(
        self,
        connection: str,
        device: str,
        name: str,
        timeout: float,
        *,
        controller: bool = False,
        dynamic: frozenset[int] = frozenset(),
    ) -> str:
        """Activate and wait for the result, told by NetworkManager's signals; returns
        the active connection's path.

        For a *controller* the wait ends once NetworkManager is ready to attach
        its ports (layer 2 ready): it holds a controller's IP configuration until
        a port brings carrier, so waiting for "activated" first would only wait
        for the ports we have not activated yet (nmcli reports "master waiting for
        slaves" there).  ``wait_activated`` then waits for the rest.

        *dynamic*: the IP versions the profile obtains from the network; the
        wait ends once only they are left (see ``only_waiting_for_dynamic``).
        """
        await self._objects_current()  # its copy tells the states from here on
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
            deadline = loop.time() + timeout
            while not fut.done():
                if controller and self._ready_for_ports(active):
                    return str(active)
                if self._only_waiting_for_dynamic(active, dynamic):
                    return str(active)
                seen = self._signal_count
                remaining = deadline - loop.time()
                if remaining <= 0 or not await self.wait_for_signal(seen, remaining):
                    raise Timeout(f"{name}: not activated within {timeout:.0f} s")
            state, reason = fut.result()
            if state != ActiveState.ACTIVATED:
                raise BackendError(
                    f"{name}: activation failed ({ACTIVE_REASONS.get(reason, f'reason {reason}')})"
                )
            return str(active)
        finally:
            self._signal_watchers.remove(watch)

    async def wait_activated(
        self, active: str, name: str, timeout: float, dynamic: frozenset[int] = frozenset()
    ) -> None:
        """Until an activation started by ``activate(controller=True)`` has ended
        (or only waits for the *dynamic* IP versions, as in ``activate``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            props = self._objects.props(active, ACTIVE) if self._objects.loaded else None
            state = int(props["State"]) if props is not None else None
            if state == ActiveState.ACTIVATED or self._only_waiting_for_dynamic(active, dynamic):
                return
            if self._objects.loaded and state in (None, ActiveState.DEACTIVATED):
                raise BackendError(f"{name}: activation failed after its ports were attached")
            seen = self._signal_count
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.wait_for_signal(seen, remaining):
                raise Timeout(f"{name}: not activated within {timeout:.0f} s")

    def _ready_for_ports(self, active: str) -> bool:
        """Is this controller's activation waiting for its ports (layer 2 ready)?"""
        props = self._objects.props(active, ACTIVE) if self._objects.loaded else None
        if props is None:
            return False
        ready = ActivationFlag.IS_CONTROLLER | ActivationFlag.LAYER2_READY
        return bool(
            props["State"] == ActiveState.ACTIVATING and props["StateFlags"] & ready == ready
        )

    def _only_waiting_for_dynamic(self, active: str, dynamic: frozenset[int]) -> bool:
        """``only_waiting_for_dynamic`` for an active connection, as last signalled."""
        if not dynamic:
            return False
        props = self._objects.props(active, ACTIVE) if self._objects.loaded else None
        if props is None:
            return False
        return only_waiting_for_dynamic(int(props["State"]), int(props["StateFlags"]), dynamic)

    async def reapply(self, device: str, name: str) -> None:
        self._applied.pop(device, None)  # whatever was kept for it is about to change
        self._reapplies += 1
        try:
            await self._reapply(device, name)
        finally:
            self._reapplies += 1

    async def _reapply(self, device: str, name: str) -> None:
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


def only_waiting_for_dynamic(state: int, flags: int, dynamic: frozenset[int]) -> bool:
    """Is an activation up, as nmstate counts it: only waiting for a DHCP lease or
    router advertisement of the *dynamic* IP versions?  (*state*, *flags*: the active
    connection's State and StateFlags.)

    nmstate gives a dynamic family an infinite timeout and does not wait for it:
    the interface is up once NetworkManager is in its IP configuration stage
    (LAYER2_READY is set as the device enters IP_CONFIG, device state 70; nmstate
    checks that device state) and every family that is NOT dynamic has its
    IPx_READY flag (static addresses set, IPv6 DAD done; a disabled family is
    ready at once).  So ``dhcp: true`` with no server answering is applied at
    once instead of failing after NetworkManager's DHCP timeout, and a late lease
    configures the interface when it comes.  Waiting for the static families
    keeps what verification checks (their addresses) in place before it runs.
    At least one family must still be pending: with none, NetworkManager is about
    to report ACTIVATED (IP_CHECK, SECONDARIES), and that is what we wait for.
    """
    if state != ActiveState.ACTIVATING or not flags & ActivationFlag.LAYER2_READY:
        return False
    pending = {family for family, ready in _IP_READY.items() if not flags & ready}
    return bool(pending) and pending <= dynamic


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


def _device(path: str, props: Mapping[str, Any] | None) -> Device:
    assert props is not None
    return Device(
        path=path,
        name=props["Interface"],
        state=props["State"],
        managed=props["Managed"],
        device_type=props["DeviceType"],
        active_connection=props["ActiveConnection"],
        real=props.get("Real", True),
    )

"""NetworkManager's objects in memory, kept current from its signals.

One ``GetManagedObjects`` call on NetworkManager's object manager
(``/org/freedesktop``) loads every object; ``InterfacesAdded``,
``InterfacesRemoved`` and ``PropertiesChanged`` keep the copy current
(what libnm does).  Reading devices then costs no round trip per device:
asking each of 1,000 devices for its properties at once exceeds the bus's
limit of pending replies per connection.

Profiles' settings (``GetSettings``) are not properties: they are fetched
when first asked for and kept until NetworkManager says the profile was
``Updated`` or removed.

Only the interfaces and properties nmstated reads are kept.  Everything
here runs inside the bus's message handler, in the order NetworkManager
sent it: the load's reply is taken at its place in that order, so a signal
that follows it is never overwritten by it.  A new owner of
NetworkManager's name (a restart) empties the copy; the next read loads it
again.
"""

from __future__ import annotations

import logging
from typing import Any

from dbus_fast import Message, MessageType, Variant

log = logging.getLogger(__name__)

NM_NAME = "org.freedesktop.NetworkManager"
ROOT_PATH = "/org/freedesktop"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
DEVICE = NM_NAME + ".Device"
VETH = NM_NAME + ".Device.Veth"
ACTIVE = NM_NAME + ".Connection.Active"
CONNECTION = NM_NAME + ".Settings.Connection"

# What we keep of each interface (the rest of NetworkManager's properties is dropped).
KEPT: dict[str, frozenset[str]] = {
    DEVICE: frozenset({"Interface", "State", "Managed", "DeviceType", "ActiveConnection", "Real"}),
    VETH: frozenset({"Peer"}),
    ACTIVE: frozenset({"Connection", "State", "StateFlags"}),
    CONNECTION: frozenset(),  # only that the profile exists
}

Props = dict[str, Any]
Settings = dict[str, dict[str, Variant]]


class ObjectCache:
    """NetworkManager's objects as of the last message read from the bus."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[str, Props]] = {}
        # Interface -> paths of the objects having it (an ordered set).
        self._having: dict[str, dict[str, None]] = {}
        self._settings: dict[str, Settings] = {}
        self._owner: str | None = None  # NetworkManager's unique name, once loaded
        self._load_serial: int | None = None
        self.loaded = False
        # Bumped when a profile changes (or everything is forgotten): settings
        # fetched before must not be kept.
        self._versions: dict[str, int] = {}
        self._epoch = 0

    # -- loading ------------------------------------------------------------------
    def loading(self, serial: int) -> None:
        """A GetManagedObjects call with this serial is on its way."""
        self._load_serial = serial

    def on_message(self, msg: Message) -> None:
        """Every message the bus connection receives (a dbus-fast message handler)."""
        kind = msg.message_type
        if kind == MessageType.SIGNAL:
            self._on_signal(msg)
        elif self._load_serial is not None and msg.reply_serial == self._load_serial:
            self._load_serial = None
            if kind == MessageType.METHOD_RETURN:
                self._load(msg.sender or "", msg.body[0])

    def _load(self, owner: str, managed: dict[str, dict[str, Props]]) -> None:
        self._objects = {}
        self._having = {}
        self._settings = {}
        self._epoch += 1
        self._owner = owner
        for path, interfaces in managed.items():
            self._add(path, interfaces)
        self.loaded = True
        log.debug("NetworkManager objects loaded: %d kept", len(self._objects))

    def forget(self) -> None:
        """Empty the copy (NetworkManager went away or restarted); the next read reloads."""
        self._objects = {}
        self._having = {}
        self._settings = {}
        self._owner = None
        self._load_serial = None
        self.loaded = False
        self._epoch += 1

    # -- signals ------------------------------------------------------------------
    def _on_signal(self, msg: Message) -> None:
        if msg.member == "NameOwnerChanged" and msg.sender == "org.freedesktop.DBus":
            if msg.body and msg.body[0] == NM_NAME:
                self.forget()
            return
        if not self.loaded or msg.sender != self._owner:
            return
        if msg.interface == PROPERTIES and msg.member == "PropertiesChanged":
            interface, changed, invalidated = msg.body
            self._changed(msg.path or "", interface, changed, invalidated)
        elif msg.interface == OBJECT_MANAGER and msg.member == "InterfacesAdded":
            path, interfaces = msg.body
            self._add(path, interfaces)
        elif msg.interface == OBJECT_MANAGER and msg.member == "InterfacesRemoved":
            path, interfaces = msg.body
            self._remove(path, interfaces)
        elif msg.interface == CONNECTION and msg.member == "Updated":
            self._profile_changed(msg.path or "")

    def _add(self, path: str, interfaces: dict[str, Props]) -> None:
        for interface, props in interfaces.items():
            kept = KEPT.get(interface)
            if kept is None:
                continue
            own = self._objects.setdefault(path, {}).setdefault(interface, {})
            self._having.setdefault(interface, {})[path] = None
            own.update((name, _plain(props[name])) for name in kept if name in props)
        if CONNECTION in interfaces:
            self._profile_changed(path)

    def _remove(self, path: str, interfaces: list[str]) -> None:
        own = self._objects.get(path)
        if own is None:
            return
        for interface in interfaces:
            own.pop(interface, None)
            self._having.get(interface, {}).pop(path, None)
        if not own:
            del self._objects[path]
        if CONNECTION in interfaces:
            self._settings.pop(path, None)
            self._versions.pop(path, None)  # a fetch in flight finds the profile gone

    def _profile_changed(self, path: str) -> None:
        self._settings.pop(path, None)
        self._versions[path] = self._versions.get(path, 0) + 1

    def _changed(
        self, path: str, interface: str, changed: dict[str, Any], invalidated: list[str]
    ) -> None:
        kept = KEPT.get(interface)
        own = self._objects.get(path, {}).get(interface)
        if kept is None or own is None:
            return
        if kept.intersection(invalidated):
            # NetworkManager sends values, never invalidations; if it ever does, reload.
            log.debug("%s: %s invalidated; reloading NetworkManager's objects", path, invalidated)
            self.forget()
            return
        own.update((name, _plain(value)) for name, value in changed.items() if name in kept)

    # -- reading ------------------------------------------------------------------
    def paths(self, interface: str) -> list[str]:
        """Paths of the objects that have *interface*, in the order they appeared."""
        return list(self._having.get(interface, ()))

    def props(self, path: str, interface: str) -> Props | None:
        """The kept properties of one object's interface (None: no such object)."""
        own = self._objects.get(path)
        return None if own is None else own.get(interface)

    def settings(self, path: str) -> Settings | None:
        """A profile's settings, if fetched since it last changed."""
        return self._settings.get(path)

    def settings_version(self, path: str) -> tuple[int, int]:
        """Taken before fetching a profile's settings, handed to ``keep_settings``."""
        return self._epoch, self._versions.get(path, 0)

    def keep_settings(self, path: str, settings: Settings, version: tuple[int, int]) -> None:
        """Keep what GetSettings returned, unless the profile changed or went meanwhile
        (its reply may be read before a later ``Updated`` is, or after)."""
        if version == self.settings_version(path) and self.props(path, CONNECTION) is not None:
            self._settings[path] = settings


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value

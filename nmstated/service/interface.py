"""/org/nmstate/interface/<escaped name> — org.nmstate.Interface, one per kernel interface.

The objects mirror the deltas of ``signals.SignalHub``: an interface that
appears is exported (the ObjectManager at /org/nmstate announces it with
InterfacesAdded), one that goes is unexported (InterfacesRemoved), and a
change emits PropertiesChanged with the properties that differ.  Names are
escaped as systemd escapes object path labels: every byte outside
``[A-Za-z0-9]`` becomes ``_`` and two hex digits (``br-ex`` →
``br_2dex``), so the mapping is reversible.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property

from nmstated.delta import Delta, View
from nmstated.service.manager import ManagerInterface
from nmstated.signals import SignalHub

log = logging.getLogger(__name__)

INTERFACE_INTERFACE = "org.nmstate.Interface"
INTERFACE_PATH_PREFIX = "/org/nmstate/interface/"


def escape_label(name: str) -> str:
    """An interface name as one object path element (``sd_bus_path_encode`` style)."""
    if not name:
        return "_"
    return "".join(
        chr(byte) if chr(byte).isascii() and chr(byte).isalnum() else f"_{byte:02x}"
        for byte in name.encode()
    )


def unescape_label(label: str) -> str:
    if label == "_":
        return ""
    out = bytearray()
    i = 0
    while i < len(label):
        if label[i] == "_":
            out.append(int(label[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(ord(label[i]))
            i += 1
    return out.decode()


def interface_path(name: str) -> str:
    return INTERFACE_PATH_PREFIX + escape_label(name)


def _addresses(view: View, family: str) -> list[str]:
    return [f"{a['ip']}/{a['prefix-length']}" for a in view.get(family, {}).get("address", ())]


# Property → its value in an nmstate interface view.
_PROPERTIES: dict[str, Callable[[View], Any]] = {
    "Name": lambda view: str(view["name"]),
    "Type": lambda view: str(view.get("type", "unknown")),
    "State": lambda view: str(view.get("state", "")),
    "Mtu": lambda view: int(view.get("mtu", 0)),
    "MacAddress": lambda view: str(view.get("mac-address", "")),
    "Controller": lambda view: str(view.get("controller", "")),
    "IPv4Addresses": lambda view: _addresses(view, "ipv4"),
    "IPv6Addresses": lambda view: _addresses(view, "ipv6"),
    "Json": lambda view: json.dumps(view, separators=(",", ":")),
}


def property_values(view: View) -> dict[str, Any]:
    return {name: value(view) for name, value in _PROPERTIES.items()}


class InterfaceObject(ServiceInterface):
    def __init__(self, view: View) -> None:
        super().__init__(INTERFACE_INTERFACE)
        self._values = property_values(view)

    def update(self, view: View) -> None:
        values = property_values(view)
        changed = {k: v for k, v in values.items() if self._values.get(k) != v}
        self._values = values
        if changed:
            self.emit_properties_changed(changed)

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return str(self._values["Name"])

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:
        """nmstate interface type (ethernet, veth, linux-bridge, ...)."""
        return str(self._values["Type"])

    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> DBusStr:
        """up or down, as the kernel has it."""
        return str(self._values["State"])

    @dbus_property(access=PropertyAccess.READ)
    def Mtu(self) -> DBusUInt32:
        return int(self._values["Mtu"])

    @dbus_property(access=PropertyAccess.READ)
    def MacAddress(self) -> DBusStr:
        """Upper case; empty if the interface has none."""
        return str(self._values["MacAddress"])

    @dbus_property(access=PropertyAccess.READ)
    def Controller(self) -> DBusStr:
        """The bridge or bond this interface is a port of; empty if none."""
        return str(self._values["Controller"])

    @dbus_property(access=PropertyAccess.READ)
    def IPv4Addresses(self) -> Annotated[list[str], DBusSignature("as")]:
        """ADDRESS/PREFIX, static and dynamic."""
        return list(self._values["IPv4Addresses"])

    @dbus_property(access=PropertyAccess.READ)
    def IPv6Addresses(self) -> Annotated[list[str], DBusSignature("as")]:
        """ADDRESS/PREFIX, without link-local ones."""
        return list(self._values["IPv6Addresses"])

    @dbus_property(access=PropertyAccess.READ)
    def Json(self) -> DBusStr:
        """The interface in the nmstate schema, as the kernel has it."""
        return str(self._values["Json"])


class InterfaceObjects:
    """Keeps one exported object per interface, following the deltas."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._objects: dict[str, InterfaceObject] = {}

    def populate(self, views: Mapping[str, View]) -> None:
        for name, view in views.items():
            self._export(name, view)

    def on_delta(self, delta: Delta) -> None:
        for change in delta.interfaces:
            if change.new is None:
                if self._objects.pop(change.name, None) is not None:
                    self._bus.unexport(interface_path(change.name))
            elif change.name in self._objects:
                self._objects[change.name].update(change.new)
            else:
                self._export(change.name, change.new)

    def _export(self, name: str, view: View) -> None:
        obj = InterfaceObject(view)
        self._objects[name] = obj
        self._bus.export(interface_path(name), obj)


def publish_kernel_changes(
    bus: MessageBus, hub: SignalHub, manager: ManagerInterface
) -> InterfaceObjects:
    """Export the interface objects and send the hub's deltas and resyncs on the bus."""
    objects = InterfaceObjects(bus)
    objects.populate(hub.views())
    hub.on_delta.append(objects.on_delta)
    hub.on_delta.append(lambda delta: manager.StateChanged(delta.to_json()))
    hub.on_resynced.append(manager.Resynced)
    return objects

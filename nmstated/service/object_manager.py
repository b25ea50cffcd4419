"""The daemon's bus connection: dbus-fast's, with two things put right.

InterfacesAdded/Removed: dbus-fast serves
``org.freedesktop.DBus.ObjectManager.GetManagedObjects`` on every exported
path and announces each export and unexport with InterfacesAdded /
InterfacesRemoved -- but sends those signals from the object's own path.
The specification has the object manager send them (here /org/nmstate), and
clients such as GDBus's ObjectManagerClient listen only there.
``ObjectManagerBus`` sends them from the manager's path for every object
below it, unchanged for anything else.

A full socket: dbus-fast 5.2 writes without blocking and treats EAGAIN --
the socket's send buffer is full because the bus daemon has not read yet --
as a broken connection and disconnects (the bug python-dbus-next #153
describes).  A large StateChanged after a resync, or many calls at once,
are enough.  The connection's writer is given a write step that waits for
the socket to be writable again instead.
"""

from __future__ import annotations

import array
import logging
import socket
from typing import Any, Final

from dbus_fast import Message
from dbus_fast.aio import MessageBus
from dbus_fast.aio.message_bus import _MessageWriter
from dbus_fast.service import ServiceInterface

log = logging.getLogger(__name__)

OBJECT_MANAGER: Final = "org.freedesktop.DBus.ObjectManager"
MANAGER_ROOT: Final = "/org/nmstate"


def signal_path(path: str) -> str:
    """Where the object manager's signals about *path* come from."""
    return MANAGER_ROOT if path.startswith(MANAGER_ROOT + "/") else path


class _PatientWriter(_MessageWriter):
    """dbus-fast's message writer, except that a full socket means "later"."""

    def write_callback(self, remove_writer: bool = True) -> None:
        sock, fd = self.sock, self.fd
        assert sock is not None and fd is not None  # set when the bus connected
        try:
            while True:
                if self.buf is None:
                    if not self.messages:
                        if remove_writer:
                            self.loop.remove_writer(fd)
                        return
                    buf, self.unix_fds, self.fut = self.messages.popleft()
                    self.buf = memoryview(buf)
                    self.offset = 0
                if self.unix_fds and self.negotiate_unix_fd:
                    fds = array.array("i", self.unix_fds)
                    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)]
                    self.offset += sock.sendmsg([self.buf[self.offset :]], ancillary)
                    self.unix_fds = None
                else:
                    self.offset += sock.send(self.buf[self.offset :])
                if self.offset < len(self.buf):
                    self._wait_writable()
                    return
                self.buf = None
                if self.fut is not None and not self.fut.done():
                    self.fut.set_result(None)
        except BlockingIOError:
            self._wait_writable()
        except Exception as err:
            if self.fut is not None and not self.fut.done():
                if self.bus._user_disconnect:
                    self.fut.set_result(None)
                else:
                    self.fut.set_exception(err)
            self.bus._finalize(err)

    def _wait_writable(self) -> None:
        # The loop calls write_callback again once the socket can take more.
        assert self.fd is not None
        self.loop.add_writer(self.fd, self.write_callback)


class ObjectManagerBus(MessageBus):
    async def connect(self) -> ObjectManagerBus:
        await super().connect()
        if isinstance(self._writer, _MessageWriter):
            self._writer.__class__ = _PatientWriter
        return self

    def _emit_interface_added(self, path: str, interface: ServiceInterface) -> None:
        if self._disconnected:
            return

        def send(
            iface: ServiceInterface, values: Any, _user_data: Any, err: Exception | None
        ) -> None:
            if err is not None:
                log.error(
                    "some properties of %s at %s are missing from InterfacesAdded: %s",
                    iface.name,
                    path,
                    err,
                )
            self.send(
                Message.new_signal(
                    path=signal_path(path),
                    interface=OBJECT_MANAGER,
                    member="InterfacesAdded",
                    signature="oa{sa{sv}}",
                    body=[path, {iface.name: values}],
                )
            )

        ServiceInterface._get_all_property_values(interface, send)

    def _emit_interface_removed(self, path: str, removed_interfaces: list[str]) -> None:
        if self._disconnected:
            return
        self.send(
            Message.new_signal(
                path=signal_path(path),
                interface=OBJECT_MANAGER,
                member="InterfacesRemoved",
                signature="oas",
                body=[path, removed_interfaces],
            )
        )

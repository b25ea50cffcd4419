"""A blocking connection to the system bus, for nmstatectl's one-shot commands.

Connect, authenticate (EXTERNAL: the kernel vouches for our uid), say
Hello, call, read the reply: each command does a handful of round trips,
which a plain socket does in well under a millisecond, while importing
asyncio and a D-Bus library would cost many times that.  Signals read
while waiting for a reply are handed to the registered handlers at once,
in the order the bus sent them, so a reply is always newer than every
signal handled before it.
"""

from __future__ import annotations

import os
import socket

from client import wire
from client.wire import Message

TYPE_CHECKING = False  # see client/wire.py: no typing import at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

DEFAULT_SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket"
BUS = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
_READ_SIZE = 65536


class BusError(Exception):
    """An error reply: its D-Bus error name and text."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


class BusUnreachable(OSError):
    """Connecting to the bus at *target* failed, for *reason*."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


def shown_target(target: str | bytes) -> str:
    """A socket address as people write it (an abstract one with a leading @)."""
    if isinstance(target, bytes):
        return "@" + target[1:].decode(errors="replace")
    return target


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self._serial = 0
        self.signal_handlers: list[Callable[[Message], None]] = []

    # -- connecting -------------------------------------------------------------
    @classmethod
    def system_bus(cls) -> Connection:
        """Connect to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else the standard socket).

        Raises BusUnreachable (nothing listens, or we may not connect) or
        ValueError (an address we cannot use)."""
        address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or DEFAULT_SYSTEM_BUS
        failure: Exception = ValueError(f"no usable address in {address!r}")
        for target in unix_targets(address):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                sock.connect(target)
                conn = cls(sock)
                conn._authenticate()
                return conn
            except (OSError, ValueError) as err:
                sock.close()
                reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
                failure = BusUnreachable(shown_target(target), reason)
        raise failure

    def _authenticate(self) -> None:
        uid = str(os.geteuid()).encode().hex()
        self._sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        line = self._read_line()
        if not line.startswith(b"OK "):
            raise OSError(f"the bus refused us: {line.decode(errors='replace').strip()}")
        # BEGIN, then Hello: the bus wants Hello first.  Its reply is read
        # with the first call's, saving a round trip.
        hello = self._message(BUS, BUS_PATH, BUS, "Hello")
        self._sock.sendall(b"BEGIN\r\n" + wire.encode(hello))

    def _read_line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, rest = bytes(self._buffer).partition(b"\r\n")
        self._buffer = bytearray(rest)
        return line

    def close(self) -> None:
        self._sock.close()

    # -- calls ----------------------------------------------------------------------
    def call(
        self,
        destination: str,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        *,
        flags: int = 0,
    ) -> list[Any]:
        """Call and wait for the reply's body; an error reply raises BusError."""
        msg = self._message(destination, path, interface, member, signature, body, flags)
        self._sock.sendall(wire.encode(msg))
        while True:
            reply = self.receive()
            if reply.reply_serial != msg.serial:
                continue
            if reply.kind == wire.ERROR:
                text = str(reply.body[0]) if reply.body and isinstance(reply.body[0], str) else ""
                raise BusError(reply.error_name or "", text)
            return reply.body

    def add_match(self, rule: str) -> None:
        self.call(BUS, BUS_PATH, BUS, "AddMatch", "s", [rule])

    def _message(
        self,
        destination: str,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
        flags: int = 0,
    ) -> Message:
        self._serial += 1
        return Message(
            kind=wire.METHOD_CALL,
            serial=self._serial,
            flags=flags,
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=body or [],
        )

    # -- reading --------------------------------------------------------------------
    def receive(self) -> Message:
        """The next message; a signal is first handed to every signal handler."""
        while len(self._buffer) < wire.HEADER_SIZE:
            self._fill()
        size = wire.message_size(bytes(self._buffer[: wire.HEADER_SIZE]))
        while len(self._buffer) < size:
            self._fill()
        msg = wire.decode(bytes(self._buffer[:size]))
        del self._buffer[:size]
        if msg.kind == wire.SIGNAL:
            for handler in list(self.signal_handlers):
                handler(msg)
        return msg

    def _fill(self) -> None:
        data = self._sock.recv(_READ_SIZE)
        if not data:
            raise ConnectionResetError("the bus closed the connection")
        self._buffer.extend(data)


def unix_targets(address: str) -> list[str | bytes]:
    """Socket addresses to try, in order, from a D-Bus address list.

    ``unix:path=…`` and ``unix:abstract=…`` are understood; other transports
    (tcp, launchd…) are skipped, as a system bus never uses them here."""
    targets: list[str | bytes] = []
    for entry in address.split(";"):
        transport, _, params = entry.partition(":")
        if transport != "unix":
            continue
        values = {}
        for pair in params.split(","):
            key, _, value = pair.partition("=")
            values[key] = unescape(value)
        if "path" in values:
            targets.append(os.fsdecode(values["path"]))
        elif "abstract" in values:
            targets.append(b"\0" + values["abstract"])
    return targets


def unescape(value: str) -> bytes:
    """A D-Bus address value: any byte may be written as %XX."""
    out = bytearray()
    index = 0
    while index < len(value):
        if value[index] != "%":
            out.extend(value[index].encode())
            index += 1
            continue
        digits = value[index + 1 : index + 3]
        if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError(f"bad escape in bus address value {value!r}")
        out.append(int(digits, 16))
        index += 3
    return bytes(out)

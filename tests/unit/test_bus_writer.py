"""ObjectManagerBus's writer waits for a full socket (dbus-fast's gives up), no root.

A socket pair whose other end nobody reads yet: the first message fills the
send buffer, the second finds it full.  dbus-fast 5.2's writer takes that
EAGAIN for a broken connection; ours must deliver everything once the other
end reads.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from dbus_fast import Message
from dbus_fast.aio.message_bus import _MessageWriter

from nmstated.service.object_manager import _PatientWriter

PAYLOAD = "x" * 200_000


class FakeBus:
    """What a message writer uses of its bus."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._loop = loop
        self._negotiate_unix_fd = False
        self._user_disconnect = False
        self.unique_name = ":1.1"
        self.broken: Exception | None = None

    def _finalize(self, err: Exception) -> None:
        self.broken = err


def send_three(writer_class: type[_MessageWriter]) -> tuple[Exception | None, int, int]:
    """(what broke the connection, bytes expected, bytes the other end got)."""

    async def run() -> tuple[Exception | None, int, int]:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            ours.setblocking(False)
            theirs.setblocking(False)
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            loop = asyncio.get_running_loop()
            bus: Any = FakeBus(ours, loop)
            writer = _MessageWriter(bus)
            writer.__class__ = writer_class
            messages = [
                Message.new_signal("/org/nmstate", "org.nmstate.Test", "Big", "s", [PAYLOAD])
                for _ in range(3)
            ]
            expected = sum(len(m._marshall(False)) for m in messages)
            for message in messages:  # no loop turn in between: the socket fills
                writer.schedule_write(message)
            got = bytearray()
            done = loop.create_future()

            def read() -> None:
                try:
                    got.extend(theirs.recv(1 << 20))
                except BlockingIOError:
                    return
                if len(got) >= expected and not done.done():
                    done.set_result(None)

            loop.add_reader(theirs.fileno(), read)
            try:
                await asyncio.wait_for(done, 10)
            finally:
                loop.remove_reader(theirs.fileno())
                loop.remove_writer(ours.fileno())
            return bus.broken, expected, len(got)

    return asyncio.run(run())


def test_a_full_socket_is_waited_for() -> None:
    broken, expected, got = send_three(_PatientWriter)
    assert broken is None
    assert got == expected


def test_dbus_fasts_own_writer_breaks_the_connection_there() -> None:
    # Why the patient writer exists; if this fails, dbus-fast fixed it and
    # _PatientWriter can go.
    broken, _, _ = send_three(_MessageWriter)
    assert isinstance(broken, BlockingIOError)  # the real bus disconnects on this

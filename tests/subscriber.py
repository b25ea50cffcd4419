"""A bus subscriber for tests: collects org.nmstate's signals in a background thread.

Tests make changes with ``ip`` in their own thread and wait for the matching
signal with a deadline (``expect``); nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

DEFAULT_TIMEOUT = 15.0


@dataclass(frozen=True)
class Signal:
    path: str
    interface: str
    member: str
    body: list[Any]
    received: float  # time.monotonic()

    @property
    def delta(self) -> dict[str, Any]:
        """The decoded body of a StateChanged signal."""
        assert self.member == "StateChanged", self
        return dict(json.loads(self.body[0]))


class Subscriber:
    def __init__(self, address: str) -> None:
        self._address = address
        self._queue: queue.Queue[Signal] = queue.Queue()
        self.seen: list[Signal] = []  # everything received, in order
        self._unclaimed: list[Signal] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bus-subscriber", daemon=True)

    def __enter__(self) -> Subscriber:
        self._thread.start()
        if not self._ready.wait(DEFAULT_TIMEOUT) or self._error is not None:
            raise RuntimeError(f"subscriber did not start: {self._error}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(DEFAULT_TIMEOUT)

    def expect(
        self, matches: Callable[[Signal], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> Signal:
        """The earliest signal not returned before that *matches*; fails after *timeout*.

        Signals are kept until a test asks for them, so the order in which
        a test expects signals need not be the order they came in.
        """
        for i, signal in enumerate(self._unclaimed):
            if matches(signal):
                return self._unclaimed.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                signal = self._queue.get(timeout=max(remaining, 0))
            except queue.Empty:
                members = [f"{s.member} {s.path} {s.body}"[:300] for s in self.seen[-10:]]
                raise AssertionError(
                    f"no signal {what} within {timeout} s; last ones:\n" + "\n".join(members)
                ) from None
            self.seen.append(signal)
            if matches(signal):
                return signal
            self._unclaimed.append(signal)

    def expect_delta(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        found = self.expect(
            lambda s: s.member == "StateChanged" and matches(s.delta), timeout, "StateChanged"
        )
        return found.delta

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            bus = await MessageBus(bus_address=self._address).connect()
        except BaseException as err:
            self._error = err
            self._ready.set()
            raise

        def on_message(msg: Message) -> None:
            if msg.message_type == MessageType.SIGNAL:
                self._queue.put(
                    Signal(
                        msg.path or "",
                        msg.interface or "",
                        msg.member or "",
                        list(msg.body),
                        time.monotonic(),
                    )
                )

        bus.add_message_handler(on_message)
        await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=["type='signal',sender='org.nmstate'"],
            )
        )
        self._ready.set()
        await self._stop.wait()
        bus.disconnect()

"""What passes on a sandbox's bus, read with ``dbus-monitor`` up to a marker.

``bus_messages(box, *rules)`` yields a list that is filled, on leaving the
block, with every message matching one of the match *rules* from entering
it until a marker signal sent on leaving it: nothing is timed.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from sandbox import Sandbox

DEADLINE = 30.0
_MARKER_RULE = "type='signal',interface='org.nmstate.Test'"


@dataclass
class BusMessage:
    header: str
    body: list[str] = field(default_factory=list)

    @property
    def strings(self) -> list[str]:
        return [m for line in self.body for m in re.findall(r'^\s*string "(.*)"$', line)]


@contextmanager
def bus_messages(box: Sandbox, *rules: str) -> Iterator[list[BusMessage]]:
    marker = f"mark{uuid.uuid4().hex[:8]}"
    monitor = subprocess.Popen(
        ["dbus-monitor", "--address", box.bus_address, *rules, _MARKER_RULE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert monitor.stdout is not None
    reader = LineReader(monitor.stdout)
    seen: list[BusMessage] = []
    try:
        # Becoming a monitor makes the bus take its name away: from then on it sees all.
        reader.until(lambda line: "member=NameLost" in line)
        yield seen
        subprocess.run(
            ["busctl", f"--address={box.bus_address}", "emit", "/org/nmstate/test",
             "org.nmstate.Test", "Mark", "s", marker],
            check=True,
        )  # fmt: skip
        for line in reader.until(lambda line: f'string "{marker}"' in line):
            if line.startswith(("signal ", "method call ", "method return ", "error ")):
                seen.append(BusMessage(line))
            elif seen and line.startswith(" "):
                seen[-1].body.append(line)
        seen[:] = [m for m in seen if "org.nmstate.Test" not in m.header]
    finally:
        monitor.terminate()
        monitor.wait(timeout=10)
        monitor.stdout.close()


class LineReader:
    """Lines from a pipe, read without buffering behind select's back."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._pending = b""

    def until(self, done: Callable[[str], bool]) -> list[str]:
        """Lines up to and including the first one *done* accepts."""
        taken: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while True:
            while b"\n" in self._pending:
                raw, self._pending = self._pending.split(b"\n", 1)
                line = raw.decode(errors="replace")
                taken.append(line)
                if done(line):
                    return taken
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            assert ready, f"dbus-monitor said nothing more within {DEADLINE} s: {taken[-5:]}"
            chunk = os.read(self._fd, 1 << 16)
            assert chunk, f"dbus-monitor ended: {taken[-8:]}"
            self._pending += chunk

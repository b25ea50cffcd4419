"""Event → signal latency: ``ip`` changes a link, a bus subscriber times the StateChanged.

Another process -- one long-running ``ip -batch -`` in the sandbox namespace --
takes one command at a time: add a veth, change its MTU, add an address,
bring it up, remove the address, bring it down, delete it.  The clock starts
when the command is handed to ``ip`` and stops when the subscriber receives
the StateChanged that shows the change; the next command waits for it.  The
latency therefore includes the coalescing window, by design.

A netlink socket of the bench's own, in the same namespace, also notes when
the kernel announced each change, so the figures come twice: from the
command, and from the kernel's event (what the daemon itself adds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pyroute2 import AsyncIPRoute

from bench.common import Subscriber, leave_alone, summary
from nmstated.monitor import GROUPS
from sandbox import Sandbox

Check = Callable[[dict[str, Any]], bool]


def _iface(name: str, check: Callable[[dict[str, Any] | None], bool]) -> Check:
    def matches(delta: dict[str, Any]) -> bool:
        return any(c["name"] == name and check(c["new"]) for c in delta["interfaces"])

    return matches


def _steps(i: int) -> list[tuple[str, str, Check]]:
    a, b = f"lat{i}a", f"lat{i}b"
    address = f"10.{i // 250}.{i % 250}.1"
    entry = {"ip": address, "prefix-length": 24}
    return [
        ("add", f"link add {a} type veth peer name {b}", _iface(a, lambda new: new is not None)),
        ("mtu", f"link set {a} mtu 1400", _iface(a, lambda new: bool(new and new["mtu"] == 1400))),
        (
            "address add",
            f"addr add {address}/24 dev {a}",
            _iface(a, lambda new: bool(new and entry in new["ipv4"].get("address", []))),
        ),
        ("up", f"link set {a} up", _iface(a, lambda new: bool(new and new["state"] == "up"))),
        (
            "address del",
            f"addr del {address}/24 dev {a}",
            _iface(a, lambda new: bool(new and entry not in new["ipv4"].get("address", []))),
        ),
        ("down", f"link set {a} down", _iface(a, lambda new: bool(new and new["state"] == "down"))),
        ("delete", f"link del {a}", _iface(a, lambda new: new is None)),
    ]


class KernelClock:
    """When the kernel announced the first link or address event since ``arm()``."""

    def __init__(self, netns: str) -> None:
        self._ipr = AsyncIPRoute(netns=netns, flags=0)
        self._sock = self._ipr.socket
        self._sock.setblocking(False)
        self._sock.bind((0, GROUPS))
        self.first: float | None = None
        asyncio.get_running_loop().add_reader(self._sock.fileno(), self._readable)

    def _readable(self) -> None:
        now = time.monotonic()
        while True:
            try:
                self._sock.recv(65536)
            except BlockingIOError:
                return
            if self.first is None:
                self.first = now

    def arm(self) -> None:
        self._readable()  # anything still queued is from before
        self.first = None

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._sock.fileno())
        self._ipr.close()


async def measure(box: Sandbox, rounds: int) -> dict[str, Any]:
    leave_alone(box, "lat*")
    sub = Subscriber(box.bus_address)
    await sub.start()
    clock = KernelClock(box.netns)
    changer = await asyncio.create_subprocess_exec(
        "ip", "-n", box.netns, "-batch", "-", stdin=asyncio.subprocess.PIPE
    )
    assert changer.stdin is not None
    from_command: dict[str, list[float]] = {}
    from_event: list[float] = []
    try:
        for i in range(rounds):
            for kind, command, matches in _steps(i):
                clock.arm()
                started = time.monotonic()
                changer.stdin.write(command.encode() + b"\n")
                await changer.stdin.drain()
                received = await sub.wait_delta(matches)
                from_command.setdefault(kind, []).append(received - started)
                if clock.first is not None:
                    from_event.append(received - clock.first)
    finally:
        changer.stdin.close()
        await changer.wait()
        clock.close()
        sub.close()
    every = [value for values in from_command.values() for value in values]
    return {
        "changes": len(every),
        "all": summary(every),
        "from_kernel_event": summary(from_event),
        "by_change": {kind: summary(values) for kind, values in from_command.items()},
    }

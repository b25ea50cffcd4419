"""Show at scale: 1,000 interfaces and 10,000 routes, next to ``ip -j``.

500 veth pairs (1,000 interfaces, each up with an IPv4 address) and 10,000
/32 routes spread over them.  Timed, in the same run, each several times:
Show (JSON, the full state with NetworkManager's view), Show with
``kernel-only``, and ``ip -j addr`` followed by ``ip -j route show table all``
in the same namespace -- what a tool without nmstated would run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import DaemonStats, Subscriber, ip_batch, leave_alone, mib, summary
from sandbox import Sandbox


def setup_commands(pairs: int, routes: int) -> list[str]:
    lines = []
    for i in range(pairs):
        a, b = f"sc{i}a", f"sc{i}b"
        lines += [
            f"link add {a} type veth peer name {b}",
            f"link set {a} up",
            f"link set {b} up",
            f"addr add 10.{64 + i // 256}.{i % 256}.1/24 dev {a}",
        ]
    for n in range(routes):
        lines.append(
            f"route add 100.{64 + n // 65536}.{(n // 256) % 256}.{n % 256}/32 dev sc{n % pairs}a"
        )
    return lines


async def _ip_json(box: Sandbox) -> float:
    started = time.monotonic()
    for args in (("-j", "addr"), ("-j", "route", "show", "table", "all")):
        proc = await asyncio.create_subprocess_exec(
            "ip", "-n", box.netns, *args, stdout=asyncio.subprocess.DEVNULL
        )
        if await proc.wait() != 0:
            raise RuntimeError(f"ip {' '.join(args)} failed")
    return time.monotonic() - started


async def measure(box: Sandbox, pairs: int, routes: int, repeat: int) -> dict[str, Any]:
    leave_alone(box, "sc*")
    setup_seconds = await asyncio.to_thread(ip_batch, box, setup_commands(pairs, routes))
    sub = Subscriber(box.bus_address)
    await sub.start()
    started = time.monotonic()
    _, state = await sub.show(kernel_only=True)  # settles: every event taken in
    caught_up = time.monotonic() - started
    interfaces = len(state["interfaces"])
    running = len(state["routes"]["running"])
    timings: dict[str, list[float]] = {"show": [], "show_kernel_only": [], "ip_json": []}
    errors: dict[str, str] = {}

    async def timed(key: str, call: Callable[[], Awaitable[float]]) -> None:
        if key in errors:
            return
        try:
            timings[key].append(await call())
        except Exception as err:  # a figure we could not take is reported, not hidden
            errors[key] = f"{type(err).__name__}: {err}"[:300]

    async def show_full() -> float:
        return (await sub.show())[0]

    async def show_kernel() -> float:
        return (await sub.show(kernel_only=True))[0]

    # Full Show last: it may fail (NetworkManager's view of 1,000 devices).
    for _ in range(repeat):
        await timed("show_kernel_only", show_kernel)
        await timed("ip_json", lambda: _ip_json(box))
    for _ in range(repeat):
        await timed("show", show_full)
    rss = DaemonStats(box.processes["nmstated"][0]).rss_bytes()
    sub.close()
    return {
        "interfaces": interfaces,
        "routes_running": running,
        "setup_ip_seconds": round(setup_seconds, 2),
        "daemon_caught_up_seconds": round(caught_up, 2),
        "daemon_rss_mib": mib(rss),
        "show": summary(timings["show"]),
        "show_kernel_only": summary(timings["show_kernel_only"]),
        "ip_json_addr_plus_route": summary(timings["ip_json"]),
        "errors": errors,
    }

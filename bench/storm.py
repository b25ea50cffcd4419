"""A storm of route changes: nothing may be lost silently.

``ip -batch`` adds 10,000 /32 routes through one veth and deletes them
again.  Meanwhile a client keeps calling Show and the daemon's CPU time and
resident memory are read from /proc.  Afterwards the daemon's routes (Show,
kernel view) must equal a fresh netlink dump of the namespace, and if the
kernel dropped events for the daemon's socket (``/proc/<pid>/net/netlink``)
a Resynced signal must have said so.

Run twice: with the daemon reading as usual (Show is timed until the daemon
has taken in the whole storm), and with the daemon frozen (SIGSTOP) for a
storm three times as large, which overflows even the 8 MiB receive buffer
and forces the resync path.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from bench.common import DaemonStats, Subscriber, ip_batch, leave_alone, mib, summary
from nmstated.backends.kernel import read_snapshot, to_nmstate
from sandbox import Sandbox


def storm_commands(count: int) -> list[str]:
    adds = [
        f"route add 10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}/32 dev storm0"
        for i in range(count)
    ]
    return adds + [line.replace("route add", "route del", 1) for line in adds]


async def measure(box: Sandbox, count: int, frozen: bool) -> dict[str, Any]:
    leave_alone(box, "storm*")
    pid = box.processes["nmstated"][0]
    ip_batch(
        box,
        ["link add storm0 type veth peer name storm1", "link set storm0 up", "link set storm1 up"],
    )
    sub = Subscriber(box.bus_address)
    await sub.start()
    stats = DaemonStats(pid)
    await sub.show()  # the daemon has seen the veth
    drops_before = stats.netlink_drops()
    rss_before = stats.rss_bytes()
    cpu_before = stats.cpu_seconds()
    stats.start_sampling()
    commands = storm_commands(count)

    show_times: dict[str, list[float]] = {"full": [], "kernel_only": []}
    absorbed = asyncio.Event()

    async def keep_showing(kernel_only: bool) -> None:
        """Show, again and again, until the daemon has taken in the whole storm."""
        key = "kernel_only" if kernel_only else "full"
        while not absorbed.is_set():
            elapsed, _ = await sub.show(kernel_only=kernel_only)
            show_times[key].append(elapsed)

    started = time.monotonic()
    showers = []
    if frozen:
        os.kill(pid, signal.SIGSTOP)
    else:
        showers = [asyncio.create_task(keep_showing(k)) for k in (False, True)]
    try:
        ip_seconds = await asyncio.to_thread(ip_batch, box, commands)
    finally:
        if frozen:
            os.kill(pid, signal.SIGCONT)
    # Show settles on the kernel's queue first: when it answers, the daemon
    # has taken in every event of the storm.
    _, final = await sub.show(kernel_only=True)
    caught_up = time.monotonic() - started
    absorbed.set()
    await asyncio.gather(*showers)
    cpu = stats.cpu_seconds() - cpu_before
    max_rss = stats.stop_sampling()
    kernel = await read_snapshot(box.netns)
    equal = final["routes"] == to_nmstate.routes(kernel)
    left = sum(1 for r in final["routes"]["running"] if r["destination"].startswith("10.100."))
    drops = stats.netlink_drops() - drops_before
    resynced = sub.counts.get("Resynced", 0)
    sub.close()
    return {
        "route_changes": len(commands),
        "daemon_frozen": frozen,
        "ip_seconds": round(ip_seconds, 3),
        "caught_up_seconds": round(caught_up, 3),
        "kernel_drops": drops,
        "resynced_signals": resynced,
        "state_changed_signals": sub.counts.get("StateChanged", 0),
        "final_cache_equals_kernel": equal and left == 0,
        "silent_loss": not (equal and left == 0) or (drops > 0 and resynced == 0),
        "daemon_cpu_seconds": round(cpu, 3),
        "daemon_cpu_percent": round(100 * cpu / caught_up, 1),
        "daemon_rss_mib_before": mib(rss_before),
        "daemon_rss_mib_max": mib(max_rss),
        "show_during_storm": summary(show_times["full"]),
        "show_kernel_only_during_storm": summary(show_times["kernel_only"]),
    }

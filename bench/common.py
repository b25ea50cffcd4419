"""What every benchmark shares: a bus subscriber, ``ip`` in the sandbox, daemon stats."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from nmstated.backends.networkmanager.client import add_match
from sandbox import Sandbox

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def leave_alone(box: Sandbox, *patterns: str) -> None:
    """NetworkManager must not touch the benchmark's interfaces (it would set them up)."""
    specs = ";".join(f"interface-name:{pattern}" for pattern in patterns)
    (box.workdir / "conf.d" / "90-bench.conf").write_text(f"[keyfile]\nunmanaged-devices={specs}\n")
    box.nmcli("general", "reload", "conf")


def ip_batch(box: Sandbox, lines: list[str]) -> float:
    """Run ``ip -batch`` in the sandbox; returns how long it took (s)."""
    started = time.monotonic()
    subprocess.run(
        ["ip", "-n", box.netns, "-batch", "-"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float | int]:
    """Milliseconds: count, min, p50, p90, p99, max, mean (values in seconds)."""
    if not values:
        return {"n": 0}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "min_ms": round(min(ms), 2),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


@dataclass
class BusSignal:
    member: str
    body: list[Any]
    received: float


@dataclass
class Subscriber:
    """org.nmstate's Manager signals, as they arrive (asyncio, in the bench's loop)."""

    address: str
    bus: MessageBus | None = None
    signals: asyncio.Queue[BusSignal] = field(default_factory=asyncio.Queue)
    counts: dict[str, int] = field(default_factory=dict)

    async def start(self) -> None:
        self.bus = await MessageBus(bus_address=self.address).connect()

        def on_message(msg: Message) -> None:
            if msg.message_type == MessageType.SIGNAL and msg.interface == "org.nmstate.Manager":
                member = msg.member or ""
                self.counts[member] = self.counts.get(member, 0) + 1
                self.signals.put_nowait(BusSignal(member, list(msg.body), time.monotonic()))

        self.bus.add_message_handler(on_message)
        await add_match(
            self.bus, "type='signal',sender='org.nmstate',interface='org.nmstate.Manager'"
        )

    async def wait_delta(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> float:
        """Arrival time of the next StateChanged whose delta *matches*."""
        async with asyncio.timeout(timeout):
            while True:
                signal = await self.signals.get()
                if signal.member == "StateChanged" and matches(json.loads(signal.body[0])):
                    return signal.received

    async def show(self, **options: bool) -> tuple[float, dict[str, Any]]:
        """One Show call (JSON): its duration (s) and the state."""
        assert self.bus is not None
        started = time.monotonic()
        reply = await self.bus.call(
            Message(
                destination="org.nmstate",
                path="/org/nmstate",
                interface="org.nmstate.Manager",
                member="Show",
                signature="a{sv}",
                body=[{key.replace("_", "-"): Variant("b", v) for key, v in options.items()}],
            )
        )
        elapsed = time.monotonic() - started
        assert reply is not None and reply.message_type == MessageType.METHOD_RETURN, reply
        return elapsed, dict(json.loads(reply.body[0]))

    def close(self) -> None:
        if self.bus is not None:
            self.bus.disconnect()


class DaemonStats:
    """CPU time and resident memory of the daemon, from /proc; RSS sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.max_rss = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def netlink_drops(self) -> int:
        """Messages the kernel dropped for the daemon's netlink sockets (/proc/net/netlink)."""
        inodes = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        drops = 0
        lines = Path(f"/proc/{self.pid}/net/netlink").read_text().splitlines()
        for line in lines[1:]:
            cols = line.split()
            if len(cols) >= 10 and cols[9] in inodes:
                drops += int(cols[8])
        return drops

    def start_sampling(self, interval: float = 0.02) -> None:
        self.max_rss = self.rss_bytes()

        def sample() -> None:
            while not self._stop.wait(interval):
                self.max_rss = max(self.max_rss, self.rss_bytes())

        self._stop.clear()
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()

    def stop_sampling(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.max_rss = max(self.max_rss, self.rss_bytes())
        return self.max_rss


def mib(value: int) -> float:
    return round(value / (1024 * 1024), 1)

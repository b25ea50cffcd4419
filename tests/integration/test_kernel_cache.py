"""The live kernel cache against the real kernel, in throw-away namespaces.

A seeded random sequence of ``ip`` commands churns links, addresses, routes
and rules (and toggles disable_ipv6, bridge ports, carrier); after every
batch the cache must equal a fresh dump.  A receive buffer made tiny and a
burst the loop cannot read in time force ENOBUFS: the monitor must resync
and say so.  The root namespace is never touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest

from nmstated.backends.kernel.netlink import Link
from nmstated.backends.kernel.reader import Snapshot, read_snapshot
from nmstated.cache import Change
from nmstated.monitor import KernelMonitor
from tests.helpers import require_root

pytestmark = pytest.mark.root

SEEDS = (20240611, 7, 1234)
ROUNDS = 40
COMMANDS_PER_ROUND = 40
PAIRS = 6


def _run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture
def netns() -> Iterator[str]:
    require_root()
    name = f"nmsdkc-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    _run("ip", "netns", "add", name)
    try:
        # Addresses final at once: no DAD running behind the test's back.
        _run(
            "ip", "netns", "exec", name, "sysctl", "-q", "-w",
            "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
        )  # fmt: skip
        _run("ip", "-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        _run("ip", "netns", "delete", name, check=False)


def with_monitor(
    netns: str, body: Callable[[KernelMonitor], Awaitable[None]], **options: int
) -> None:
    """Run *body* with a started monitor watching *netns*, in a fresh event loop."""

    async def run() -> None:
        mon = KernelMonitor(netns=netns, **options)
        await mon.start()
        try:
            await body(mon)
        finally:
            await mon.close()

    asyncio.run(run())


def comparable(snapshot: Snapshot) -> dict[int, Link]:
    """Links, with disable_ipv6 blanked where it cannot be seen.

    The kernel announces no change of disable_ipv6; it shows only through
    IPv6 addresses (which are announced, and make the monitor re-read the
    link).  On a link without IPv6 addresses it changes nothing anyone can
    observe, so the cache cannot and need not know it.
    """
    with_ipv6 = {a.index for a in snapshot.addresses if a.family == socket.AF_INET6}
    return {
        index: link if index in with_ipv6 else dataclasses.replace(link, ipv6_disabled=None)
        for index, link in snapshot.links.items()
    }


def differences(cached: Snapshot, fresh: Snapshot) -> list[str]:
    problems = []
    mine, theirs = comparable(cached), comparable(fresh)
    for index in sorted(set(mine) | set(theirs)):
        if mine.get(index) != theirs.get(index):
            problems.append(f"link {index}: cache {mine.get(index)} kernel {theirs.get(index)}")
    for label, mine, theirs in (
        ("address", Counter(cached.addresses), Counter(fresh.addresses)),
        ("route", Counter(cached.routes), Counter(fresh.routes)),
        ("rule", Counter(cached.rules), Counter(fresh.rules)),
    ):
        problems += [f"{label} only in the cache: {item}" for item in mine - theirs]
        problems += [f"{label} only in the kernel: {item}" for item in theirs - mine]
    return problems


async def assert_cache_is_kernel(mon: KernelMonitor, netns: str) -> None:
    """Compare with a fresh dump; the kernel may still change on its own
    (carrier), so a mismatch is re-checked after the next event, bounded."""
    problems: list[str] = []
    for _ in range(10):
        seen = mon.generation
        fresh = await read_snapshot(netns)
        await mon.settle()
        problems = differences(mon.cache.snapshot(), fresh)
        if not problems:
            return
        await mon.wait_for_change(seen, 1.0)
    raise AssertionError("cache differs from the kernel:\n" + "\n".join(problems[:20]))


def random_commands(rng: random.Random) -> list[str]:
    """One random change, as ``ip -batch`` lines; many are plausible, some fail."""
    pair = rng.randrange(PAIRS)
    other = (pair + 1) % PAIRS
    a, b = f"va{pair}", f"vb{pair}"
    net, route_net = f"10.{pair}", f"10.{100 + pair}.{rng.randrange(4)}.0/24"
    ops: list[tuple[int, list[str]]] = [
        (2, [f"link add {a} type veth peer name {b}"]),
        (1, [f"link del {a}"]),
        (4, [f"link set {a} up", f"link set {b} up"]),
        (1, [f"link set {rng.choice([a, b])} down"]),
        (2, [f"link set {a} mtu {rng.choice([1280, 1500, 9000])}"]),
        (1, [f"link set {b} master br0"]),
        (1, [f"link set {b} nomaster"]),
        (4, [f"addr add {net}.{rng.randrange(1, 4)}.1/24 dev {a}"]),
        (2, [f"addr del {net}.{rng.randrange(1, 4)}.1/24 dev {a}"]),
        (3, [f"addr add 2001:db8:{pair}::{rng.randrange(1, 4)}/64 dev {a}"]),
        (1, [f"addr del 2001:db8:{pair}::{rng.randrange(1, 4)}/64 dev {a}"]),
        (4, [f"route add {route_net} dev {a} metric {rng.choice([0, 50])}"]),
        (2, [f"route del {route_net} dev {a}"]),
        (2, [f"route replace {route_net} via {net}.1.2 dev {a}"]),
        (2, [f"route append {route_net} dev va{other}"]),
        (3, [f"-6 route add 2001:db8:{100 + pair}::/64 via 2001:db8:{pair}::fe dev {a}"]),
        (1, [f"-6 route del 2001:db8:{100 + pair}::/64"]),
        (
            2,
            [
                f"route add 10.200.{pair}.0/24 nexthop via {net}.1.2 dev {a} "
                f"nexthop via 10.{other}.1.2 dev va{other}"
            ],
        ),
        (1, [f"route del 10.200.{pair}.0/24"]),
        (
            1,
            [
                f"-6 route add 2001:db8:200::/64 nexthop via 2001:db8:{pair}::fe dev {a} "
                f"nexthop via 2001:db8:{other}::fe dev va{other}"
            ],
        ),
        (1, [f"-6 route append 2001:db8:200::/64 via 2001:db8:{pair}::fd dev {a}"]),
        (1, ["-6 route del 2001:db8:200::/64"]),
        (1, [f"rule add from 10.{pair}.0.0/16 lookup {100 + pair} priority {1000 + pair}"]),
        (1, [f"rule del priority {1000 + pair}"]),
        (1, [f"-6 rule add to 2001:db8:{pair}::/48 lookup {100 + pair}"]),
        (1, [f"-6 rule del to 2001:db8:{pair}::/48 lookup {100 + pair}"]),
        (1, [f"link set br0 {rng.choice(['up', 'down'])}"]),
    ]
    weights = [weight for weight, _ in ops]
    return rng.choices([lines for _, lines in ops], weights)[0]


def toggle_ipv6(rng: random.Random, netns: str) -> None:
    pair = rng.randrange(PAIRS)
    _run(
        "ip", "netns", "exec", netns, "sysctl", "-q", "-w",
        f"net.ipv6.conf.va{pair}.disable_ipv6={rng.randrange(2)}",
        check=False,
    )  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
def test_cache_equals_a_fresh_dump_after_random_churn(netns: str, seed: int) -> None:
    async def body(monitor: KernelMonitor) -> None:
        rng = random.Random(seed)
        _run("ip", "-n", netns, "link", "add", "br0", "type", "bridge")
        changes: list[Change] = []
        monitor.on_changes.append(lambda batch, job: changes.extend(batch))
        for _ in range(ROUNDS):
            batch = "\n".join(
                line for _ in range(COMMANDS_PER_ROUND) for line in random_commands(rng)
            )
            # -force: commands that make no sense right now just fail.
            _run("ip", "-n", netns, "-force", "-batch", "-", stdin=batch + "\n", check=False)
            if rng.random() < 0.5:
                toggle_ipv6(rng, netns)
            await assert_cache_is_kernel(monitor, netns)
        kinds = Counter(change.kind for change in changes)
        # The churn really exercised every kind of object.
        assert {"link", "address", "route", "rule"} <= set(kinds), kinds

    with_monitor(netns, body)


def test_overflow_forces_a_resync_and_the_cache_is_right_afterwards(netns: str) -> None:
    async def body(mon: KernelMonitor) -> None:
        resynced: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        mon.on_resynced.append(lambda reason: resynced.done() or resynced.set_result(reason))
        _run("ip", "-n", netns, "link", "add", "ov0", "type", "veth", "peer", "name", "ov1")
        _run("ip", "-n", netns, "link", "set", "ov0", "up")
        adds = [f"route add 10.77.{i // 256}.{i % 256}/32 dev ov0" for i in range(2000)]
        # Routes that come and go: replaying the queued adds after the
        # resync would bring the deleted ones back.
        dels = [line.replace("add", "del", 1) for line in adds[:1000]]
        # The event loop is blocked while ip runs: 3000 route events cannot
        # fit a 4 KiB buffer, so the kernel drops some and reports ENOBUFS.
        _run("ip", "-n", netns, "-batch", "-", stdin="\n".join(adds + dels) + "\n")
        assert mon.resyncs == 0
        reason = await asyncio.wait_for(resynced, 60)
        assert "overflowed" in reason
        assert mon.resyncs >= 1
        await assert_cache_is_kernel(mon, netns)
        ours = [r for r in mon.cache.snapshot().routes if r.destination.startswith("10.77.")]
        assert len(ours) == 1000

    with_monitor(netns, body, receive_buffer=4096)


def test_receive_buffer_is_forced_to_at_least_8_mib(netns: str) -> None:
    async def body(monitor: KernelMonitor) -> None:
        # SO_RCVBUFFORCE goes past net.core.rmem_max; the kernel reports its
        # doubled bookkeeping size.
        assert monitor.receive_buffer >= 8 * 1024 * 1024

    with_monitor(netns, body)


def test_settle_sees_a_change_made_just_before(netns: str) -> None:
    async def body(monitor: KernelMonitor) -> None:
        for i in range(20):
            _run(
                "ip",
                "-n",
                netns,
                "link",
                "add",
                f"st{i}",
                "type",
                "veth",
                "peer",
                "name",
                f"st{i}p",
            )
            await monitor.settle()
            assert monitor.cache.link_named(f"st{i}") is not None

    with_monitor(netns, body)


def test_a_link_going_down_re_reads_only_the_routes_through_it(netns: str) -> None:
    """Carrier and admin changes drop or flag routes without an event; the
    monitor must fix exactly those, with a dump filtered by the kernel, not
    by re-reading every route (which made adding N links cost N^2)."""
    setup = [
        "link add sa0 type veth peer name sb0",
        "link add sa1 type veth peer name sb1",
        "link set sa0 up", "link set sb0 up", "link set sa1 up", "link set sb1 up",
        "addr add 10.60.0.1/24 dev sa0", "addr add 10.61.0.1/24 dev sa1",
        "route add 10.70.0.0/16 via 10.60.0.2 table 100",
        "route add 10.71.0.0/16 via 10.61.0.2",
        "route add 10.72.0.0/16 nexthop via 10.60.0.2 nexthop via 10.61.0.2",
        "route add blackhole 10.73.0.0/16",
    ]  # fmt: skip
    _run("ip", "-n", netns, "-batch", "-", stdin="\n".join(setup) + "\n")

    async def body(mon: KernelMonitor) -> None:
        await assert_cache_is_kernel(mon, netns)
        full_before = mon.full_route_reads
        for step in (
            "link set sb0 down",  # carrier of sa0 goes: its routes get "linkdown"
            "link set sb0 up",
            "link set sa0 down",  # its IPv4 routes vanish, the multipath hop dies
            "link set sa0 up",
            "addr del 10.61.0.1/24 dev sa1",  # the last IPv4 address: routes go
        ):
            reads = mon.link_route_reads
            _run("ip", "-n", netns, *step.split())
            await assert_cache_is_kernel(mon, netns)
            assert mon.link_route_reads > reads, step
        assert mon.full_route_reads == full_before
        kept = {r.destination for r in mon.cache.snapshot().routes if r.table in (100, 254)}
        assert "10.73.0.0/16" in kept  # untouched by any of it

    with_monitor(netns, body)

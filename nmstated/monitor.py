"""Kernel change notifications over netlink, and the live cache they keep current.

One pyroute2 ``AsyncIPRoute`` socket subscribes to the link, IPv4/IPv6
address, route and rule groups; a second one serves the dumps (the initial
read, re-reads, resyncs), so a dump never mixes with events.  Its receive
buffer is forced to 8 MiB (``SO_RCVBUFFORCE``, root only; the size is
checked with ``getsockopt`` and a smaller one is logged).

The event socket is read here, not through pyroute2's asyncio transport:
pyroute2's marshal parses each datagram, the parsers in
``backends/kernel/netlink.py`` turn it into models, and ``KernelCache``
stores them.  Reading it ourselves gives two things pyroute2's transport
does not: ``ENOBUFS`` arrives as an error we act on (pyroute2 marks the
socket dead), and ``settle()`` can wait exactly for the events queued
before it was called -- it sends an ``NLMSG_NOOP`` asking for an ACK on the
event socket, and the kernel queues that ACK behind every pending event.
``Show`` and the engine's verify loop settle before they read, so they see
what the kernel had when they asked, without a dump.

Lost events: ``ENOBUFS`` (the buffer overflowed) means a full re-dump; the
``on_resynced`` listeners are told afterwards.  Everything still queued on
the socket at that moment is thrown away unread: any of it may be followed
by a change that was lost, and replaying it after the dump would bring back
what the kernel no longer has.  (Emptying the queue also ends the kernel's
"congested" state, in which it drops every new message -- our settle ACKs
included -- without reporting ENOBUFS again.)  Changes the kernel makes
without an event (see ``cache.py``) make the monitor re-read just the part
concerned: one link, or the routes through some links -- a third socket
with strict checking asks the kernel for those alone (``dump_routes_via``),
so a link coming up costs the same with ten routes or ten thousand.  Only
an event the cache cannot place at all re-reads every route.  While a
re-read runs, arriving events are held and replayed after it, in order.

Consumers: ``generation``/``wait_for_change()`` (the verify loop),
``on_changes`` listeners (``(changes, job_id)`` per batch of events; the job
id is ``current_job()`` when the events were read), ``snapshot()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any, Final

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from nmstated.backends.kernel.netlink import (
    AF_INET6,
    address_from_msg,
    link_from_msg,
    route_from_msg,
    rule_from_msg,
)
from nmstated.backends.kernel.reader import Snapshot, dump, dump_routes_via
from nmstated.cache import ALL_STALE, Change, KernelCache, LinkUpdate, StaleRoutes

log = logging.getLogger(__name__)


def _group(rtnlgrp: int) -> int:
    return 1 << (rtnlgrp - 1)


# RTNLGRP_* numbers from <linux/rtnetlink.h>; the legacy RTMGRP_* masks have
# no IPv6 rule group.
GROUPS: Final = (
    _group(1)  # RTNLGRP_LINK
    | _group(5)  # RTNLGRP_IPV4_IFADDR
    | _group(7)  # RTNLGRP_IPV4_ROUTE
    | _group(8)  # RTNLGRP_IPV4_RULE
    | _group(9)  # RTNLGRP_IPV6_IFADDR
    | _group(11)  # RTNLGRP_IPV6_ROUTE
    | _group(19)  # RTNLGRP_IPV6_RULE
)
# A burst of route events overflows pyroute2's default 1 MiB.
RECEIVE_BUFFER: Final = 8 * 1024 * 1024
SO_RCVBUFFORCE: Final = getattr(socket, "SO_RCVBUFFORCE", 33)
# Datagrams handled per wake-up before the loop serves others (the bus).
READ_BATCH: Final = 256
DATAGRAM_SIZE: Final = 65536
# settle() gives up waiting for its ACK after this long (a safety net: the
# ACK is queued behind the pending events, or lost with them and then
# released by the resync).
SETTLE_TIMEOUT: Final = 30.0

AF_BRIDGE: Final = 7
NLMSG_NOOP: Final = 1
NLMSG_ERROR: Final = 2
NLMSG_OVERRUN: Final = 4
NLM_F_REQUEST: Final = 0x1
NLM_F_ACK: Final = 0x4
NLM_F_REPLACE: Final = 0x100
RTM_NEWLINK: Final = 16
RTM_DELLINK: Final = 17
RTM_NEWADDR: Final = 20
RTM_DELADDR: Final = 21
RTM_NEWROUTE: Final = 24
RTM_DELROUTE: Final = 25
RTM_NEWRULE: Final = 32
RTM_DELRULE: Final = 33

ChangeListener = Callable[[tuple[Change, ...], "int | None"], None]
ResyncListener = Callable[[str], None]


class KernelMonitor:
    def __init__(self, *, netns: str | None = None, receive_buffer: int = RECEIVE_BUFFER) -> None:
        """*netns*: watch that network namespace (it must exist) instead of our own."""
        self.cache = KernelCache()
        self.on_changes: list[ChangeListener] = []
        self.on_resynced: list[ResyncListener] = []
        # Which of our jobs is running right now (set by the daemon).
        self.current_job: Callable[[], int | None] = lambda: None
        self.resyncs = 0
        # How often routes were re-read after silent kernel changes: every
        # route, or those through one link (for tests and benchmarks).
        self.full_route_reads = 0
        self.link_route_reads = 0
        self.receive_buffer = 0  # what the kernel granted, from getsockopt
        self._netns = netns
        self._wanted_buffer = receive_buffer
        self._events: Any = None
        self._dumps: Any = None
        self._filtered: Any = None  # strict checking: dumps filtered by the kernel
        self._sock: socket.socket | None = None
        self._marshal: Any = None
        self._generation = 0
        self._bumped = asyncio.Event()
        # Events arriving while a re-read runs, replayed after it.
        self._holding = False
        self._held: list[bytes] = []
        self._replayed = asyncio.Event()
        # What the next re-read must cover.
        self._refresh_wanted = asyncio.Event()
        self._refreshed = asyncio.Event()  # set when no re-read is wanted or running
        self._refreshed.set()
        self._resync_reason = ""
        self._routes_stale = False  # every route
        self._stale_route_links: set[int] = set()  # the routes through these links
        self._stale_links: set[int] = set()
        self._worker: asyncio.Task[None] | None = None
        self._sequence = itertools.count(1)
        self._barriers: dict[int, asyncio.Future[None]] = {}
        # Barriers whose ACK may have been lost with the events; the next
        # full resync makes the cache newer than they asked for.
        self._unacked: set[int] = set()

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        """Subscribe, then read everything once; events from then on are held and replayed."""
        options: dict[str, Any] = {} if self._netns is None else {"netns": self._netns, "flags": 0}
        self._events = AsyncIPRoute(**options)
        self._marshal = self._events.marshal
        sock: socket.socket = self._events.socket
        sock.setblocking(False)
        self.receive_buffer = _force_receive_buffer(sock, self._wanted_buffer)
        sock.bind((0, GROUPS))
        self._sock = sock
        self._dumps = AsyncIPRoute(**options)
        self._filtered = AsyncIPRoute(strict_check=True, **options)
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._readable)
        self._holding = True
        try:
            self.cache.replace(await dump(self._dumps))
        finally:
            await self._replay()
        self._worker = asyncio.create_task(self._refresh_loop(), name="kernel-refresh")
        log.info(
            "watching the kernel: %s (netlink receive buffer %d bytes)",
            ", ".join(f"{count} {kind}" for kind, count in self.cache.counts().items()),
            self.receive_buffer,
        )

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock = None
        for sock in (self._events, self._dumps, self._filtered):
            if sock is not None:
                sock.close()
        self._events = self._dumps = self._filtered = None
        for barrier in self._barriers.values():
            if not barrier.done():
                barrier.cancel()
        self._barriers.clear()

    # -- consumers -------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Increases with every batch of kernel events that changed the cache."""
        return self._generation

    async def wait_for_change(self, since: int, timeout: float) -> bool:
        """Wait until something changed after generation *since*; False on timeout."""
        while self._generation == since:
            try:
                await asyncio.wait_for(self._bumped.wait(), timeout)
            except TimeoutError:
                return False
        return True

    async def settle(self) -> None:
        """Return once every event the kernel had queued for us when called is in the
        cache, with the re-reads they called for."""
        if self._sock is None:
            return
        seq = next(self._sequence)
        barrier: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._barriers[seq] = barrier
        request = struct.pack("=LHHLL", 16, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq, 0)
        try:
            async with asyncio.timeout(SETTLE_TIMEOUT):
                self._sock.sendto(request, (0, 0))
                await asyncio.shield(barrier)
                await self._refreshed.wait()
        except TimeoutError:
            log.warning("kernel cache not settled after %.0f s; answering from it", SETTLE_TIMEOUT)
        except OSError as err:  # the ACK could not even be asked for
            log.warning("cannot settle the kernel cache: %s", err)
        finally:
            self._barriers.pop(seq, None)

    async def snapshot(self) -> Snapshot:
        """The kernel state now, as a dump would give it, from memory."""
        await self.settle()
        return self.cache.snapshot()

    # -- reading events --------------------------------------------------------
    def _readable(self) -> None:
        if self._sock is None:
            return
        changes: list[Change] = []
        for _ in range(READ_BATCH):
            try:
                data = self._sock.recv(DATAGRAM_SIZE)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.ENOBUFS:
                    log.warning("netlink receive buffer overflowed; events were lost, re-reading")
                    self._discard_queued()
                    self._want_resync("the netlink receive buffer overflowed; events were lost")
                    continue
                log.error("reading netlink events failed: %s; re-reading", err)
                self._want_resync(f"reading netlink events failed: {err}")
                break
            if self._holding:
                self._held.append(data)
            else:
                self._take(data, changes)
        self._publish(tuple(changes))

    def _discard_queued(self) -> None:
        """Throw away what was read but not handled and what the socket still holds."""
        assert self._sock is not None
        self._held.clear()
        self._unacked.update(self._barriers)
        while True:
            try:
                self._sock.recv(DATAGRAM_SIZE)
            except BlockingIOError:
                return
            except OSError as err:  # another overflow while emptying it: keep going
                if err.errno != errno.ENOBUFS:
                    raise

    def _take(self, data: bytes, changes: list[Change]) -> None:
        try:
            for msg in self._marshal.parse(data):
                header = msg["header"]
                self._dispatch(header["type"], header, msg, changes)
        except Exception:  # one odd message must not stop the monitor
            log.exception("cannot handle a netlink message; re-reading")
            self._want_resync("a netlink message could not be handled")

    def _dispatch(self, kind: int, header: Any, msg: Any, changes: list[Change]) -> None:
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            self._link_event(kind, msg, changes)
        elif kind in (RTM_NEWADDR, RTM_DELADDR):
            self._address_event(kind, msg, changes)
        elif kind in (RTM_NEWROUTE, RTM_DELROUTE):
            route = route_from_msg(msg)
            if kind == RTM_NEWROUTE:
                placed = self.cache.put_route(route, replace=bool(header["flags"] & NLM_F_REPLACE))
            else:
                placed = self.cache.remove_route(route)
            if placed is None:
                self._want_routes(self.cache.stale_around(route))
            else:
                changes.extend(placed)
        elif kind == RTM_NEWRULE:
            changes.extend(self.cache.put_rule(rule_from_msg(msg)))
        elif kind == RTM_DELRULE:
            changes.extend(self.cache.remove_rule(rule_from_msg(msg)))
        elif kind == NLMSG_ERROR:
            barrier = self._barriers.get(header["sequence_number"])
            if barrier is not None and not barrier.done():
                barrier.set_result(None)
        elif kind == NLMSG_OVERRUN:
            self._want_resync("the kernel reported a netlink overrun")

    def _link_event(self, kind: int, msg: Any, changes: list[Change]) -> None:
        index = int(msg["index"])
        if msg["family"] == AF_BRIDGE:
            # Bridge port news (STP state...) come only in AF_BRIDGE form,
            # which lacks most attributes: re-read the port and its bridge.
            link = self.cache.link(index)
            if link is not None:
                self._want_links(index)
                if link.controller_index is not None:
                    self._want_links(link.controller_index)
            return
        update: LinkUpdate
        if kind == RTM_NEWLINK:
            link = link_from_msg(msg)
            is_new = self.cache.link(index) is None
            update = self.cache.put_link(link)
            if is_new and link.link_index:
                # The first half of a veth pair was announced before its
                # peer existed, with no peer; nothing announces it again.
                peer = self.cache.link(link.link_index)
                if peer is not None and not peer.link_index and peer.kind == link.kind:
                    self._want_links(peer.index)
            if update.changes and link.kind == "bridge":
                # Ports repeat the bridge's id (from its MAC) and root in
                # their port data, silently.
                for port in self.cache.links.values():
                    if port.controller_index == index:
                        self._want_links(port.index)
        else:
            update = self.cache.remove_link(index)
        changes.extend(update.changes)
        if update.routes_stale:
            self._want_routes(update.routes_stale)

    def _address_event(self, kind: int, msg: Any, changes: list[Change]) -> None:
        address = address_from_msg(msg)
        if kind == RTM_NEWADDR:
            changes.extend(self.cache.put_address(address))
        else:
            changes.extend(self.cache.remove_address(address))
            lost = self.cache.routes_lost_with(address)
            if lost:
                self._want_routes(lost)
        if address.family != AF_INET6:
            return
        # disable_ipv6 flips without a link event; its traces are IPv6
        # addresses appearing on a link we think has IPv6 off, or the last
        # one going.
        link = self.cache.link(address.index)
        if link is None:
            return
        if (kind == RTM_NEWADDR and link.ipv6_disabled) or (
            kind == RTM_DELADDR
            and not link.ipv6_disabled
            and not self.cache.has_ipv6_address(address.index)
        ):
            self._want_links(address.index)

    def _publish(self, changes: tuple[Change, ...]) -> None:
        if not changes:
            return
        job = self.current_job()
        for listener in list(self.on_changes):
            try:
                listener(changes, job)
            except Exception:
                log.exception("a kernel change listener failed")
        self._generation += 1
        self._bumped.set()
        self._bumped = asyncio.Event()

    # -- re-reading --------------------------------------------------------------
    def _want_resync(self, reason: str) -> None:
        self._resync_reason = self._resync_reason or reason
        self._want_refresh()

    def _want_routes(self, stale: StaleRoutes) -> None:
        if stale.everything:
            self._routes_stale = True
        self._stale_route_links |= stale.links
        self._want_refresh()

    def _want_links(self, index: int) -> None:
        self._stale_links.add(index)
        self._want_refresh()

    def _want_refresh(self) -> None:
        self._refreshed.clear()
        self._refresh_wanted.set()

    async def _refresh_loop(self) -> None:
        while True:
            await self._refresh_wanted.wait()
            self._refresh_wanted.clear()
            try:
                await self._refresh()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.error("re-reading the kernel state failed (%s); trying a full resync", err)
                self._want_resync(f"re-reading the kernel state failed: {err}")
                # Not at once: after the next kernel event, or a second.
                await self.wait_for_change(self._generation, 1.0)
            if not self._refresh_wanted.is_set():
                self._refreshed.set()

    async def _refresh(self) -> None:
        reason, self._resync_reason = self._resync_reason, ""
        routes, self._routes_stale = self._routes_stale, False
        route_links, self._stale_route_links = self._stale_route_links, set()
        links, self._stale_links = self._stale_links, set()
        unacked, self._unacked = (self._unacked, set()) if reason else (set(), self._unacked)
        self._holding = True
        try:
            changes: list[Change] = []
            if reason:
                changes.extend(self.cache.replace(await dump(self._dumps)))
            else:
                if routes:
                    self.full_route_reads += 1
                    fresh = [route_from_msg(msg) async for msg in await self._dumps.route("dump")]
                    changes.extend(self.cache.replace_routes(fresh))
                else:
                    for index in sorted(route_links):
                        changes.extend(await self._reread_routes_via(index))
                for index in sorted(links):
                    changes.extend(await self._reread_link(index))
            self._publish(tuple(changes))
        except Exception:
            # Whatever this re-read was for is still to do (the loop asks for
            # a full resync on top), and the first reason stays the reason.
            self._resync_reason = reason or self._resync_reason
            self._unacked |= unacked
            raise
        finally:
            await self._replay()
        if reason:
            self.resyncs += 1
            log.info("kernel state re-read after lost events (%d changes)", len(changes))
            # An ACK asked for before the resync may have been lost with
            # the events; the state is now newer than what it waited for.
            for seq in unacked:
                barrier = self._barriers.get(seq)
                if barrier is not None and not barrier.done():
                    barrier.set_result(None)
            for listener in list(self.on_resynced):
                try:
                    listener(reason)
                except Exception:
                    log.exception("a resync listener failed")

    async def _reread_link(self, index: int) -> tuple[Change, ...]:
        try:
            msgs = await self._dumps.link("get", index=index)
        except NetlinkError as err:
            if err.code != errno.ENODEV:
                raise
            update = self.cache.remove_link(index)
        else:
            found = [m for m in msgs if m.get("header", {}).get("type") == RTM_NEWLINK]
            if not found:
                return ()
            update = self.cache.put_link(link_from_msg(found[0]))
        if update.routes_stale:
            self._want_routes(update.routes_stale)
        return update.changes

    async def _reread_routes_via(self, index: int) -> tuple[Change, ...]:
        self.link_route_reads += 1
        try:
            fresh = await dump_routes_via(self._filtered, index)
        except NetlinkError as err:
            if err.code != errno.ENODEV:
                raise
            # The link is gone, and with it every route through it -- but a
            # multipath route may live on through its other hops.
            if any(route.multipath for route in self.cache.routes_via(index)):
                self._want_routes(ALL_STALE)
                return ()
            fresh = []
        return self.cache.replace_routes_via(index, fresh)

    async def _replay(self) -> None:
        """Handle the held events in order, a batch per loop turn; new ones queue behind."""
        self._replayed.clear()
        asyncio.get_running_loop().call_soon(self._replay_batch)
        await self._replayed.wait()

    def _replay_batch(self) -> None:
        batch, self._held = self._held[:READ_BATCH], self._held[READ_BATCH:]
        changes: list[Change] = []
        for data in batch:
            self._take(data, changes)
        self._publish(tuple(changes))
        if self._held:
            asyncio.get_running_loop().call_soon(self._replay_batch)
        else:
            self._holding = False
            self._replayed.set()


def _force_receive_buffer(sock: socket.socket, size: int) -> int:
    """Set the receive buffer past net.core.rmem_max if we may; returns what we got."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if granted < size:
        log.warning(
            "netlink receive buffer is %d bytes, not %d (no CAP_NET_ADMIN?); "
            "bursts may overflow it and force resyncs",
            granted,
            size,
        )
    return int(granted)

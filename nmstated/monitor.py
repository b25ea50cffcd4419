"""Kernel change notifications over netlink.

One pyroute2 ``AsyncIPRoute`` subscription, separate from the socket used
for dumps.  Consumers wait on ``wait_for_change``; the verify step uses it
to re-check right after the kernel changed instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.rtnl import (
    RTMGRP_IPV4_IFADDR,
    RTMGRP_IPV4_ROUTE,
    RTMGRP_IPV4_RULE,
    RTMGRP_IPV6_IFADDR,
    RTMGRP_IPV6_ROUTE,
    RTMGRP_LINK,
)

log = logging.getLogger(__name__)

GROUPS = (
    RTMGRP_LINK
    | RTMGRP_IPV4_IFADDR
    | RTMGRP_IPV6_IFADDR
    | RTMGRP_IPV4_ROUTE
    | RTMGRP_IPV6_ROUTE
    | RTMGRP_IPV4_RULE
)
# A burst of route events overflows the default 1 MiB buffer.
RECEIVE_BUFFER = 8 * 1024 * 1024


class KernelMonitor:
    def __init__(self) -> None:
        self._socket: Any = None
        self._task: asyncio.Task[None] | None = None
        self._generation = 0
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        self._socket = AsyncIPRoute(rcvbuf=RECEIVE_BUFFER)
        await self._socket.bind(groups=GROUPS)
        self._task = asyncio.create_task(self._run(), name="kernel-monitor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @property
    def generation(self) -> int:
        """Increases with every batch of kernel events."""
        return self._generation

    async def wait_for_change(self, since: int, timeout: float) -> bool:
        """Wait until something changed after generation *since*; False on timeout."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._generation != since), timeout
                )
            except TimeoutError:
                return False
        return True

    async def _run(self) -> None:
        while True:
            try:
                async for _msg in self._socket.get():
                    await self._bump()
            except OSError as err:
                if err.errno != errno.ENOBUFS:
                    raise
                log.warning("netlink receive buffer overflowed; events were lost")
                await self._bump()

    async def _bump(self) -> None:
        async with self._changed:
            self._generation += 1
            self._changed.notify_all()

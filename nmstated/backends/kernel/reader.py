"""One consistent-enough read of the kernel: links, addresses, routes, rules.

Each object kind is one netlink dump on the caller's ``AsyncIPRoute``.  The
dumps run one after the other: a netlink socket serves a single dump at a
time, and a dump must be read to its end before the next request (an
abandoned dump makes the next one fail with EBUSY).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST
from pyroute2.netlink.rtnl import RTM_GETROUTE
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from .netlink import (
    Address,
    Link,
    Route,
    Rule,
    address_from_msg,
    link_from_msg,
    route_from_msg,
    rule_from_msg,
)

__all__ = ["Snapshot", "dump", "dump_routes_via", "read_snapshot"]


@dataclass(frozen=True)
class Snapshot:
    links: Mapping[int, Link]
    addresses: tuple[Address, ...]
    routes: tuple[Route, ...]
    rules: tuple[Rule, ...]

    def link_by_name(self, name: str) -> Link | None:
        for link in self.links.values():
            if link.name == name:
                return link
        return None


async def dump(ipr: Any) -> Snapshot:
    """Dump everything through ``ipr`` (an open ``AsyncIPRoute``).

    Routes come from every table and both families (pyroute2 asks with
    family 255, which the kernel answers with all families), rules from both
    families.
    """
    links: dict[int, Link] = {}
    async for msg in await ipr.link("dump"):
        link = link_from_msg(msg)
        links[link.index] = link
    addresses = [address_from_msg(msg) async for msg in await ipr.addr("dump")]
    routes = [route_from_msg(msg) async for msg in await ipr.route("dump")]
    rules = [rule_from_msg(msg) async for msg in await ipr.rule("dump")]
    return Snapshot(
        links=MappingProxyType(links),
        addresses=tuple(addresses),
        routes=tuple(routes),
        rules=tuple(rules),
    )


async def dump_routes_via(ipr: Any, index: int) -> list[Route]:
    """The routes of every table and family going through link *index*.

    The kernel does the filtering (``RTA_OIF`` in the dump request; it also
    keeps multipath routes with one hop through the link) when ``ipr`` was
    opened with ``strict_check=True`` (``NETLINK_GET_STRICT_CHK``, Linux
    4.20 and later); pyroute2's own ``route("dump", oif=...)`` filters in
    Python after reading every route.  The result is filtered here too, so
    an older kernel that ignores the attribute only costs time.  A link that
    does not exist raises ``NetlinkError`` (ENODEV).
    """
    request = rtmsg()
    request["family"] = socket.AF_UNSPEC  # both families; unset, pyroute2 sends AF_INET
    request["attrs"] = [("RTA_OIF", index)]
    answer = await ipr.nlm_request(request, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP)
    routes = [route_from_msg(msg) async for msg in answer]
    return [route for route in routes if index in route.links]


async def read_snapshot(netns: str | None = None) -> Snapshot:
    """Open a socket (in network namespace ``netns`` if given), dump, close.

    A missing namespace is an error (``FileNotFoundError``): pyroute2 would
    create it by default, which a reader must never do.
    """
    # flags=0: do not create the namespace (pyroute2 defaults to O_CREAT).
    ipr = AsyncIPRoute() if netns is None else AsyncIPRoute(netns=netns, flags=0)
    try:
        return await dump(ipr)
    finally:
        ipr.close()

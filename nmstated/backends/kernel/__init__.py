"""Kernel backend: read links, addresses, routes and rules over rtnetlink."""

from .netlink import (
    Address,
    Link,
    NextHop,
    Route,
    Rule,
    address_from_msg,
    address_key,
    link_from_msg,
    route_from_msg,
    route_key,
    rule_from_msg,
    rule_key,
)
from .reader import Snapshot, dump, read_snapshot

__all__ = [
    "Address",
    "Link",
    "NextHop",
    "Route",
    "Rule",
    "Snapshot",
    "address_from_msg",
    "address_key",
    "dump",
    "link_from_msg",
    "read_snapshot",
    "route_from_msg",
    "route_key",
    "rule_from_msg",
    "rule_key",
]

"""Frozen models of network state; plain dicts live only at the edges."""

from nmstated.model.interface import (
    Interface,
    InterfaceState,
    InterfaceType,
    IpAddress,
    IpConfig,
)
from nmstated.model.state import NetworkState

__all__ = [
    "Interface",
    "InterfaceState",
    "InterfaceType",
    "IpAddress",
    "IpConfig",
    "NetworkState",
]

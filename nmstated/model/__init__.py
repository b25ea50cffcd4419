"""Frozen models of network state; plain dicts live only at the edges."""

from nmstated.model.bridge import (
    BridgeConfig,
    BridgeOptions,
    BridgePort,
    PortVlan,
    StpOptions,
    TrunkTag,
)
from nmstated.model.dns import DnsConfig, DnsState, HostnameState
from nmstated.model.interface import (
    Interface,
    InterfaceState,
    InterfaceType,
    IpAddress,
    IpConfig,
)
from nmstated.model.links import BondConfig, MacVlanConfig, VlanConfig, VrfConfig, VxlanConfig
from nmstated.model.routes import Route, RouteRule, RouteRules, Routes
from nmstated.model.state import NetworkState
from nmstated.model.values import canonical_mac

__all__ = [
    "BondConfig",
    "BridgeConfig",
    "BridgeOptions",
    "BridgePort",
    "DnsConfig",
    "DnsState",
    "HostnameState",
    "Interface",
    "InterfaceState",
    "InterfaceType",
    "IpAddress",
    "IpConfig",
    "MacVlanConfig",
    "NetworkState",
    "PortVlan",
    "Route",
    "RouteRule",
    "RouteRules",
    "Routes",
    "StpOptions",
    "TrunkTag",
    "VlanConfig",
    "VrfConfig",
    "VxlanConfig",
    "canonical_mac",
]

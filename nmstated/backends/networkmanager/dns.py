"""``dns-resolver.config`` as NetworkManager's global DNS configuration.

The ``GlobalDnsConfiguration`` property of /org/freedesktop/NetworkManager
applies to the whole host, needs no interface and works with every
``rc-manager``.  Servers go to the default domain ``*``; an empty value
removes the global configuration.  NetworkManager checkpoints do not cover
it, so the applier keeps the previous value for ``undo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbus_fast import Variant

from nmstated.backends.networkmanager.client import (
    NM,
    NM_PATH,
    PROPS,
    NetworkManagerClient,
    unwrap,
)
from nmstated.model import DnsConfig

PROPERTY = "GlobalDnsConfiguration"


def to_nm(config: DnsConfig) -> dict[str, Variant]:
    """A complete configuration (every list given) as ``a{sv}``; nothing at all → {}."""
    out: dict[str, Variant] = {}
    if config.search:
        out["searches"] = Variant("as", list(config.search))
    if config.options:
        out["options"] = Variant("as", list(config.options))
    if config.server:
        out["domains"] = Variant(
            "a{sv}", {"*": Variant("a{sv}", {"servers": Variant("as", list(config.server))})}
        )
    return out


def from_nm(value: Mapping[str, Any]) -> DnsConfig:
    plain = unwrap(dict(value))
    servers = plain.get("domains", {}).get("*", {}).get("servers", [])
    return DnsConfig(
        server=tuple(servers),
        search=tuple(plain.get("searches", [])),
        options=tuple(plain.get("options", [])),
    )


def wanted(desired: DnsConfig, current: DnsConfig) -> DnsConfig | None:
    """The configuration to write, or None if *current* already is what is asked for."""
    result = desired.over(current)
    return None if result == current else result


async def read(nm: NetworkManagerClient) -> dict[str, Variant]:
    value = await nm.get_property(NM_PATH, NM, PROPERTY)
    return dict(value)


async def write(nm: NetworkManagerClient, value: Mapping[str, Variant]) -> None:
    await nm.call(
        NM_PATH,
        PROPS,
        "Set",
        "ssv",
        [NM, PROPERTY, Variant("a{sv}", dict(value))],
        doing="setting the global DNS configuration",
    )

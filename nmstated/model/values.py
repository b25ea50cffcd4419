"""One spelling per value, so that equal things compare equal.  Pure helpers for the models."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of *data* (for the keys a model keeps as they came)."""
    return MappingProxyType(dict(data)) if data else EMPTY


def rest(data: Mapping[str, Any], known: Iterable[str]) -> Mapping[str, Any]:
    """The keys of *data* that a model does not know field by field."""
    skip = set(known)
    return frozen({k: v for k, v in data.items() if k not in skip})


def canonical_mac(mac: str) -> str:
    return mac.upper()


def canonical_ip(text: str) -> str:
    """'2001:DB8::0:1' → '2001:db8::1'; anything that is not an address is kept as given."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def canonical_network(text: str) -> str:
    """'192.0.2.7/24' → '192.0.2.0/24', '2001:DB8::/64' → '2001:db8::/64', '192.0.2.1' → '/32'."""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def ip_version(text: str | None) -> int | None:
    """4 or 6 for an address or network, None for anything else."""
    if not text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False).version
    except ValueError:
        return None


def optional_int(value: Any) -> int | None:
    """An integer given as a number or as a decimal/hex string ('0x10'), or None."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    return int(str(value), 0)


def put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value

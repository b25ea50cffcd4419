"""The current state: the kernel's view overlaid with NetworkManager's.

The kernel (netlink) says what exists and how it is configured right now;
NetworkManager says which devices it manages (``state: ignore`` for the
others, ``down`` for a managed device with no active profile) and how
addresses are obtained (``dhcp``/``autoconf`` from the applied profile).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Iterable
from typing import Any

from pyroute2 import AsyncIPRoute

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.reader import dump
from nmstated.backends.networkmanager.client import (
    Device,
    DeviceState,
    NetworkManagerClient,
)
from nmstated.errors import NmstateError
from nmstated.model import InterfaceState, NetworkState

log = logging.getLogger(__name__)


def select_names(all_names: Iterable[str], patterns: Iterable[str] | None) -> list[str]:
    names = list(all_names)
    if patterns is None:
        return names
    pats = list(patterns)
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)]


class CurrentStateReader:
    def __init__(self, nm: NetworkManagerClient) -> None:
        self._nm = nm
        self._ipr: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._ipr = AsyncIPRoute()

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    async def read_dict(self, patterns: Iterable[str] | None = None) -> dict[str, Any]:
        """The current state as nmstate-shaped data, interfaces filtered by name globs."""
        async with self._lock:  # one dump at a time on our socket
            snapshot = await dump(self._ipr)
        names = select_names((link.name for link in snapshot.links.values()), patterns)
        interfaces = to_nmstate.interfaces(snapshot, names)
        try:
            devices = await self._nm.devices()
        except NmstateError as err:
            log.warning("NetworkManager unavailable, showing the kernel's view only: %s", err)
            devices = {}
        applied = await self._applied_methods(
            [devices[i["name"]] for i in interfaces if i["name"] in devices]
        )
        for iface in interfaces:
            _overlay(iface, devices.get(iface["name"]), applied.get(iface["name"]))
        interfaces.sort(key=lambda i: i["name"])
        return {"interfaces": interfaces}

    async def read(self, patterns: Iterable[str] | None = None) -> NetworkState:
        return NetworkState.from_dict(await self.read_dict(patterns))

    async def _applied_methods(self, devices: list[Device]) -> dict[str, dict[str, str]]:
        active = [d for d in devices if d.state == DeviceState.ACTIVATED]

        async def methods(device: Device) -> dict[str, str]:
            try:
                settings, _ = await self._nm.applied_connection(device.path)
            except NmstateError:
                return {}
            return {
                family: str(settings[family]["method"].value)
                for family in ("ipv4", "ipv6")
                if family in settings and "method" in settings[family]
            }

        results = await asyncio.gather(*(methods(d) for d in active))
        return {d.name: m for d, m in zip(active, results, strict=True)}


def _overlay(iface: dict[str, Any], device: Device | None, methods: dict[str, str] | None) -> None:
    if device is None:
        return
    if not device.managed or device.state == DeviceState.UNMANAGED:
        iface["state"] = InterfaceState.IGNORE
        return
    if device.state < DeviceState.ACTIVATED and device.state != DeviceState.UNAVAILABLE:
        iface["state"] = InterfaceState.DOWN
    if not methods:
        return
    ipv4 = iface.get("ipv4") or {"enabled": False}
    if ipv4.get("enabled"):
        iface["ipv4"] = _ordered_ip(ipv4, dhcp=methods.get("ipv4") == "auto")
    ipv6 = iface.get("ipv6") or {"enabled": False}
    if ipv6.get("enabled"):
        method = methods.get("ipv6")
        iface["ipv6"] = _ordered_ip(
            ipv6, dhcp=method in ("auto", "dhcp"), autoconf=method == "auto"
        )


def _ordered_ip(ip: dict[str, Any], **dynamic: bool) -> dict[str, Any]:
    """``enabled``, then how addresses are obtained, then the addresses."""
    out: dict[str, Any] = {"enabled": ip["enabled"], **dynamic}
    out.update((k, v) for k, v in ip.items() if k not in out)
    return out

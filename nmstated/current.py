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
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyroute2 import AsyncIPRoute

from nmstated.backends.kernel import to_nmstate
from nmstated.backends.kernel.reader import Snapshot, dump
from nmstated.backends.networkmanager.client import (
    NM,
    NM_PATH,
    Device,
    DeviceState,
    NetworkManagerClient,
    Settings,
    unwrap,
)
from nmstated.backends.networkmanager.settings import DYNAMIC_METHODS
from nmstated.errors import NmstateError
from nmstated.model import InterfaceState, NetworkState
from nmstated.reuse import RoutesView

log = logging.getLogger(__name__)


def select_names(all_names: Iterable[str], patterns: Iterable[str] | None) -> list[str]:
    names = list(all_names)
    if patterns is None:
        return names
    pats = list(patterns)
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in pats)]


DNS_MANAGER_PATH = NM_PATH + "/DnsManager"
DNS_MANAGER = NM + ".DnsManager"
HOSTNAME_FILE = Path("/etc/hostname")


@dataclass(frozen=True, slots=True)
class ShowOptions:
    """What Show was asked for."""

    interfaces: tuple[str, ...] | None = None  # names or shell globs; None = all
    running_config: bool = False  # only what is configured, nothing learned at run time
    kernel_only: bool = False  # the kernel's view, without NetworkManager's


class CurrentStateReader:
    def __init__(
        self, nm: NetworkManagerClient, kernel: Callable[[], Awaitable[Snapshot]] | None = None
    ) -> None:
        """*kernel*: where the kernel's state comes from (the monitor's live cache,
        ``KernelMonitor.snapshot``); without it, a netlink dump per read."""
        self._nm = nm
        self._kernel = kernel
        self._ipr: Any = None
        self._lock = asyncio.Lock()
        self._routes = RoutesView()  # reused while the kernel's routes are unchanged
        # Device path -> (applied settings, their ipv4/ipv6 part unwrapped).
        self._methods: dict[str, tuple[Settings, dict[str, dict[str, Any]]]] = {}

    async def start(self) -> None:
        self._ipr = AsyncIPRoute()

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    async def read_dict(
        self, patterns: Iterable[str] | None = None, options: ShowOptions | None = None
    ) -> dict[str, Any]:
        """The current state as nmstate-shaped data, in the order nmstate prints it.

        With name globs, interfaces are filtered and routes and rules are
        limited to those interfaces; DNS and hostname are left out.
        """
        options = options or ShowOptions()
        if patterns is None and options.interfaces is not None:
            patterns = options.interfaces
        if self._kernel is not None:
            snapshot = await self._kernel()
        else:
            async with self._lock:  # one dump at a time on our socket
                snapshot = await dump(self._ipr)
        filtered = patterns is not None
        names = select_names((link.name for link in snapshot.links.values()), patterns)
        # Addresses obtained at run time (DHCP, SLAAC) are listed with their
        # lifetimes, as nmstate shows them; the running config is what would be
        # applied, so it leaves them out.  An Apply ignores them either way
        # (nmstated/dynamic_addresses.py).
        interfaces = to_nmstate.interfaces(
            snapshot, names, include_dynamic=not options.running_config
        )
        routes = self._routes.routes(snapshot, names if filtered else None)
        rules = to_nmstate.route_rules(snapshot)
        if filtered:
            wanted = set(names)
            rules = {"config": [r for r in rules["config"] if r.get("iif") in wanted]}
        if options.running_config:
            routes = {"config": routes["config"]}

        state: dict[str, Any] = {}
        if not options.kernel_only:
            devices = await self._devices()
            applied = await self._applied_methods(
                [devices[i["name"]] for i in interfaces if i["name"] in devices]
            )
            for iface in interfaces:
                _overlay(iface, devices.get(iface["name"]), applied.get(iface["name"]))
            if not filtered:
                state["hostname"] = _hostname(options.running_config)
                state["dns-resolver"] = await self._dns(options.running_config)
        state["route-rules"] = rules
        state["routes"] = routes
        state["interfaces"] = interfaces
        return state

    async def read(self, patterns: Iterable[str] | None = None) -> NetworkState:
        return NetworkState.from_dict(await self.read_dict(patterns))

    async def _devices(self) -> dict[str, Device]:
        try:
            return await self._nm.devices()
        except NmstateError as err:
            log.warning("NetworkManager unavailable, showing the kernel's view only: %s", err)
            return {}

    async def _dns(self, config_only: bool) -> dict[str, Any]:
        """``config`` from NetworkManager's global DNS, ``running`` from its DNS manager."""
        try:
            global_dns = await self._nm.get_property(NM_PATH, NM, "GlobalDnsConfiguration")
            running = (
                []
                if config_only
                else await self._nm.get_property(DNS_MANAGER_PATH, DNS_MANAGER, "Configuration")
            )
        except NmstateError as err:
            log.warning("cannot read DNS from NetworkManager: %s", err)
            return {}
        result: dict[str, Any] = {"config": _global_dns_to_nmstate(global_dns)}
        if not config_only:
            result["running"] = _running_dns_to_nmstate(running)
        return result

    async def _applied_methods(self, devices: list[Device]) -> dict[str, dict[str, dict[str, Any]]]:
        """Per active device, its applied ``ipv4``/``ipv6`` settings (method, auto-* keys)."""
        active = [d for d in devices if _is_up(d)]
        try:
            applied = await self._nm.applied_settings(active)
        except NmstateError as err:
            log.warning("cannot read the settings applied by NetworkManager: %s", err)
            return {}
        methods: dict[str, dict[str, dict[str, Any]]] = {}
        kept: dict[str, tuple[Settings, dict[str, dict[str, Any]]]] = {}
        for device in active:
            settings = applied.get(device.path)
            if settings is None:
                continue
            known = self._methods.get(device.path)
            if known is None or known[0] is not settings:  # the client keeps unchanged ones
                known = (settings, _ip_methods(settings))
            kept[device.path] = known
            methods[device.name] = known[1]
        self._methods = kept
        return methods


def _ip_methods(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        family: unwrap(settings[family])
        for family in ("ipv4", "ipv6")
        if family in settings and "method" in settings[family]
    }


def _overlay(
    iface: dict[str, Any], device: Device | None, applied: dict[str, dict[str, Any]] | None
) -> None:
    if device is None:
        return
    if not device.managed or device.state == DeviceState.UNMANAGED:
        iface["state"] = InterfaceState.IGNORE
        return
    if not _is_up(device) and device.state != DeviceState.UNAVAILABLE:
        iface["state"] = InterfaceState.DOWN
    if not applied:
        return
    for family in ("ipv4", "ipv6"):
        settings = applied.get(family, {})
        method = settings.get("method")
        kernel = iface.get(family) or {"enabled": False}
        if method == "disabled":
            # Addresses in the kernel win: for a device NetworkManager only
            # watches (connected externally) its profile is a snapshot it took,
            # possibly while the family was still off.
            if not kernel.get("address"):
                iface[family] = {"enabled": False}
            continue
        if method not in DYNAMIC_METHODS[family] and not kernel.get("enabled"):
            continue  # "ignore", or nothing configured for the family: the kernel's view stands
        dynamic = {"dhcp": method in DYNAMIC_METHODS[family]}
        if family == "ipv6":
            dynamic["autoconf"] = method == "auto"
        # A family waiting for its first lease is still enabled.
        iface[family] = _ordered_ip(
            {**kernel, "enabled": True}, dynamic, settings if dynamic["dhcp"] else None
        )


def _is_up(device: Device) -> bool:
    """Activated, or in its IP configuration stage: waiting for a DHCP lease or
    router advertisement counts as up (nmstate's rule, see the NM backend's activate)."""
    return DeviceState.IP_CONFIG <= device.state <= DeviceState.ACTIVATED


def _auto_options(settings: dict[str, Any]) -> dict[str, Any]:
    """nmstate's auto-* keys from a profile's ipv4/ipv6 setting, NM's defaults filled in."""
    out: dict[str, Any] = {
        "auto-dns": not settings.get("ignore-auto-dns", False),
        "auto-gateway": not settings.get("never-default", False),
        "auto-routes": not settings.get("ignore-auto-routes", False),
        "auto-route-table-id": settings.get("route-table", 0),
    }
    metric = settings.get("route-metric", -1)
    if metric >= 0:
        out["auto-route-metric"] = metric
    return out


def _ordered_ip(
    ip: dict[str, Any], dynamic: dict[str, bool], settings: dict[str, Any] | None
) -> dict[str, Any]:
    """``enabled``, then how addresses are obtained and its options, then the addresses."""
    out: dict[str, Any] = {"enabled": ip["enabled"], **dynamic}
    if settings is not None:
        out.update(_auto_options(settings))
    out.update((k, v) for k, v in ip.items() if k not in out)
    return out


def _hostname(config_only: bool) -> dict[str, str]:
    try:
        config = HOSTNAME_FILE.read_text().strip()
    except OSError:
        config = ""
    result = {"config": config} if config else {}
    if not config_only:
        result["running"] = socket.gethostname()
    return result


def _global_dns_to_nmstate(config: dict[str, Any]) -> dict[str, list[str]]:
    """NetworkManager's GlobalDnsConfiguration (a{sv}) in nmstate's terms."""
    config = unwrap(config)
    out: dict[str, list[str]] = {}
    servers = list(config.get("domains", {}).get("*", {}).get("servers", []))
    if servers:
        out["server"] = servers
    if config.get("searches"):
        out["search"] = list(config["searches"])
    if config.get("options"):
        out["options"] = list(config["options"])
    return out


def _running_dns_to_nmstate(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The DNS manager's Configuration (aa{sv}), most preferred first, without repeats."""
    servers: list[str] = []
    search: list[str] = []
    ordered = sorted(
        (unwrap(e) for e in entries),
        key=lambda e: int(e.get("priority", 0)),
    )
    for entry in ordered:
        servers.extend(s for s in entry.get("nameservers", []) if s not in servers)
        search.extend(d for d in entry.get("domains", []) if d not in search)
    out: dict[str, list[str]] = {}
    if servers:
        out["server"] = servers
    if search:
        out["search"] = search
    return out

"""Carry out a desired state through NetworkManager, step by step.

Order: what goes ``absent`` first, then ``down``, then ``up`` in the order
given.  Each step is awaited through NetworkManager's own signals.  A step
that NetworkManager refuses raises; the caller rolls the checkpoint back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dbus_fast import Variant

from nmstated.backends.networkmanager import settings as nm_settings
from nmstated.backends.networkmanager.client import (
    ACTIVE,
    Device,
    NetworkManagerClient,
    Settings,
)
from nmstated.errors import BackendError, NotSupported
from nmstated.model import Interface, InterfaceState, InterfaceType, NetworkState

log = logging.getLogger(__name__)

ACTIVATION_TIMEOUT = 60.0
# NMDeviceType values of devices that exist only in software: bond, vlan,
# bridge, team, tun, ip-tunnel, macvlan, vxlan, veth, macsec, dummy, vrf.
_SOFTWARE_DEVICE_TYPES = {10, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 31}


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    to_disk: bool = True


class NetworkManagerApplier:
    """One apply's worth of NetworkManager work, for one job."""

    def __init__(
        self,
        nm: NetworkManagerClient,
        options: ApplyOptions,
        progress: Callable[[str], None],
        already_satisfied: Callable[[Interface], bool],
    ) -> None:
        self._nm = nm
        self._options = options
        self._progress = progress
        self._already_satisfied = already_satisfied
        self.writes = 0

    async def apply(self, desired: NetworkState) -> None:
        devices = await self._nm.devices()
        profiles = _profiles_by_interface(await self._nm.connections())
        ordered = sorted(
            desired.interfaces,
            key=lambda i: {InterfaceState.ABSENT: 0, InterfaceState.DOWN: 1}.get(
                i.effective_state, 2
            ),
        )
        for iface in ordered:
            state = iface.effective_state
            own = profiles.get(iface.name, [])
            if state == InterfaceState.ABSENT:
                await self._remove(iface, devices.get(iface.name), own)
            elif state == InterfaceState.DOWN:
                await self._deactivate(iface, devices.get(iface.name), own)
            elif state == InterfaceState.UP:
                await self._bring_up(iface, devices.get(iface.name), own)
            # IGNORE: leave the interface to whoever manages it.

    # -- steps ------------------------------------------------------------------
    async def _remove(
        self, iface: Interface, device: Device | None, own: list[tuple[str, Settings]]
    ) -> None:
        self._progress(f"removing {iface.name}")
        for path, _ in own:
            await self._nm.delete_connection(path)
            self.writes += 1
        if device is not None and device.real and device.device_type in _SOFTWARE_DEVICE_TYPES:
            refreshed = (await self._nm.devices()).get(iface.name)
            if refreshed is not None and refreshed.real:
                await self._nm.delete_device(refreshed)
                self.writes += 1

    async def _deactivate(
        self, iface: Interface, device: Device | None, own: list[tuple[str, Settings]]
    ) -> None:
        if device is None:
            raise NotSupported(f"{iface.name}: cannot set it down, no such interface exists")
        self._progress(f"deactivating {iface.name}")
        for path, existing in own:
            autoconnect = existing.get("connection", {}).get("autoconnect")
            if autoconnect is None or autoconnect.value:
                changed = nm_settings.merge_settings(
                    existing, {"connection": {"autoconnect": Variant("b", False)}}
                )
                await self._nm.update_connection(path, changed, to_disk=self._options.to_disk)
                self.writes += 1
        if device.is_active:
            await self._nm.disconnect(device, ACTIVATION_TIMEOUT)
            self.writes += 1

    async def _bring_up(
        self, iface: Interface, device: Device | None, own: list[tuple[str, Settings]]
    ) -> None:
        if iface.type == InterfaceType.ETHERNET and device is None:
            raise NotSupported(
                f"{iface.name}: no ethernet device named {iface.name} exists "
                "(an ethernet interface must be an existing NIC)"
            )
        active_profile = await self._active_profile(device)
        own = sorted(own, key=lambda p: p[0] != active_profile)
        for duplicate, _ in own[1:]:
            await self._nm.delete_connection(duplicate)
            self.writes += 1
        path, existing = own[0] if own else (None, None)
        wanted = nm_settings.build(iface, existing)
        changed = existing is None or nm_settings.plain(wanted) != nm_settings.plain(existing)
        if path is None:
            self._progress(f"adding a profile for {iface.name}")
            path = await self._nm.add_connection(wanted, to_disk=self._options.to_disk)
            self.writes += 1
        elif changed:
            self._progress(f"updating the profile of {iface.name}")
            await self._nm.update_connection(path, wanted, to_disk=self._options.to_disk)
            self.writes += 1

        if device is not None and active_profile == path:
            if not changed and self._already_satisfied(iface):
                log.debug("%s already as desired", iface.name)
                return
            self._progress(f"reapplying {iface.name}")
            try:
                await self._nm.reapply(device.path, iface.name)
                self.writes += 1
                return
            except BackendError as err:
                log.info("%s: reapply refused (%s); activating instead", iface.name, err)
        self._progress(f"activating {iface.name}")
        await self._nm.activate(
            path, device.path if device else "/", iface.name, ACTIVATION_TIMEOUT
        )
        self.writes += 1

    async def _active_profile(self, device: Device | None) -> str | None:
        if device is None or not device.is_active:
            return None
        return str(await self._nm.get_property(device.active_connection, ACTIVE, "Connection"))


def _profiles_by_interface(
    profiles: Mapping[str, Settings],
) -> dict[str, list[tuple[str, Settings]]]:
    by_name: dict[str, list[tuple[str, Settings]]] = {}
    for path, settings in profiles.items():
        name = settings.get("connection", {}).get("interface-name")
        if name is not None:
            by_name.setdefault(str(name.value), []).append((path, settings))
    return by_name

"""Carry out a desired state through NetworkManager, step by step.

The decisions are made by ``plan.make_plan`` (pure); this module reads what
NetworkManager has, then executes the plan in order:

1. remove what goes ``absent`` (profiles first, so nothing re-creates a
   device, then the software devices that are left);
2. save every profile that changes (``AddConnection2``/``Update2``, to disk
   or in memory), deleting duplicate profiles of the same interface;
3. deactivate what goes ``down``;
4. bring the rest up, controllers before ports and parents before
   children: ``Reapply`` for a running device (falling back to activation
   when NetworkManager refuses), activation otherwise, nothing at all when
   the profile is unchanged and the interface already is as desired.
   An interface is up once only its DHCP/autoconf families are left to
   come: a lease is not waited for (nmstate's rule; the profile waits
   for it forever);
5. the global DNS configuration and the hostname.

Every step is awaited through NetworkManager's own signals.  A step that
NetworkManager refuses raises; the caller rolls the checkpoint back and
calls ``undo`` for what checkpoints do not cover (DNS, hostname).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from dbus_fast import Message

from nmstated import verify
from nmstated.backends.networkmanager import dns as nm_dns
from nmstated.backends.networkmanager import hostname as nm_hostname
from nmstated.backends.networkmanager import plan as nm_plan
from nmstated.backends.networkmanager import settings as nm_settings
from nmstated.backends.networkmanager.client import (
    DEVICE,
    Device,
    DeviceState,
    NetworkManagerClient,
    Settings,
)
from nmstated.backends.networkmanager.features import probe
from nmstated.diff import Effects
from nmstated.errors import BackendError, NmstateError, NotSupported
from nmstated.model import Interface, InterfaceState, InterfaceType, NetworkState

log = logging.getLogger(__name__)

ACTIVATION_TIMEOUT = 60.0
# NMDeviceStateReason values worth telling (the others say no more than the
# active connection's reason already does).
DEVICE_REASONS = {
    4: "NetworkManager could not configure the device (the kernel may not support a setting)",
    5: "the IP configuration could not be reserved",
    6: "the IP configuration is no longer valid",
    50: "a dependency of the connection failed",
    61: "the parent device changed",
    62: "the parent device's management changed",
    64: "an IP address is already in use",
    65: "the IP method is not supported",
    67: "the peer could not be found",
}
_VETH_DEVICE_TYPE = 20
# Interfaces that take ports: NetworkManager holds their IP configuration
# until a port brings carrier.
CONTROLLER_TYPES = frozenset({InterfaceType.LINUX_BRIDGE, InterfaceType.BOND, InterfaceType.VRF})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    to_disk: bool = True


async def preview(nm: NetworkManagerClient, desired: NetworkState) -> Effects:
    """What applying *desired* would do beyond what it says, for a dry run's diff;
    raises as the apply would for a request that cannot be planned."""
    applier = NetworkManagerApplier(nm, ApplyOptions(), lambda _: None, lambda _: False)
    plan, _ = await applier._plan(desired)
    return nm_plan.effects(plan)


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
        self._undo: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self.writes = 0

    async def apply(self, desired: NetworkState) -> None:
        plan, known = await self._plan(desired)
        log.debug("plan: %s", nm_plan.describe(plan))
        for move in plan.moved_rules:
            log.info(
                "route rule %s moves from %s's profile to %s's",
                move.rule.describe(),
                move.source,
                move.target,
            )
        for removal in plan.removals:
            await self._remove(removal)
        devices = await self._nm.devices() if plan.removals else None
        paths = await self._save(plan, known)
        for step in plan.downs:
            await self._deactivate(step, (devices or {}).get(step.name, _device(known, step.name)))
        if plan.ups:
            await self._bring_up_all(plan.ups, paths, known)
        if desired.dns is not None and desired.dns.config is not None:
            await self._apply_dns(desired)
        if desired.hostname is not None:
            await self._apply_hostname(desired)

    async def _plan(self, desired: NetworkState) -> tuple[nm_plan.Plan, dict[str, nm_plan.Known]]:
        features = await probe(self._nm)
        known = await self._known(desired)
        satisfied = {
            iface.name
            for iface in desired.interfaces
            if iface.effective_state in (InterfaceState.UP, InterfaceState.DOWN)
            and not verify.unverifiable(iface)
            and self._already_satisfied(_without_ports(iface))
        }
        return nm_plan.make_plan(desired, known, features, satisfied), known

    async def undo(self) -> None:
        """Put back what checkpoints do not cover (DNS, hostname), newest first."""
        while self._undo:
            what, restore = self._undo.pop()
            try:
                await restore()
                log.info("restored %s", what)
            except NmstateError as err:
                log.error("could not restore %s: %s", what, err.message)

    # -- reading ------------------------------------------------------------------------
    async def _known(self, desired: NetworkState) -> dict[str, nm_plan.Known]:
        devices = await self._nm.devices()
        profiles = _profiles_by_interface(await self._nm.connections())
        active = await self._active_profiles(devices.values())
        absent_veths = [
            devices[i.name]
            for i in desired.interfaces
            if i.effective_state == InterfaceState.ABSENT
            and i.name in devices
            and devices[i.name].device_type == _VETH_DEVICE_TYPE
        ]
        peers = await self._veth_peers(absent_veths, devices)
        known: dict[str, nm_plan.Known] = {}
        for name in set(devices) | set(profiles):
            own = profiles.get(name, [])
            device = devices.get(name)
            current = active.get(device.path) if device is not None else None
            own.sort(key=lambda p: p[0] != current)
            known[name] = nm_plan.Known(
                profiles=tuple(own),
                device=device,
                active_profile=current,
                veth_peer=peers.get(name),
            )
        return known

    async def _active_profiles(self, devices: Iterable[Device]) -> dict[str, str]:
        """Device path → path of the profile active on it (NetworkManager's objects,
        kept in memory: no call per device)."""
        out: dict[str, str] = {}
        for device in devices:
            if device.is_active:
                profile = await self._nm.active_profile(device.active_connection)
                if profile is not None:  # None: deactivated meanwhile
                    out[device.path] = profile
        return out

    async def _veth_peers(
        self, veths: list[Device], devices: Mapping[str, Device]
    ) -> dict[str, str]:
        """The other end of each veth, as NetworkManager knows it (a profile may not say)."""
        names_by_path = {d.path: d.name for d in devices.values()}
        out: dict[str, str] = {}
        for device in veths:
            peer_path = await self._nm.veth_peer(device.path)
            if peer_path in names_by_path:
                out[device.name] = names_by_path[peer_path]
        return out

    # -- steps ------------------------------------------------------------------------------
    async def _remove(self, removal: nm_plan.Removal) -> None:
        self._progress(f"removing {removal.name}")
        for path in removal.profile_paths:
            await self._nm.delete_connection(path)
            self.writes += 1
        if removal.delete_device:
            # Deleting an active profile may already have taken its device away
            # (and a veth's peer with it), possibly while we ask.
            device = await self._nm.device_named(removal.name)
            if device is None or not device.real:
                return
            try:
                await self._nm.delete_device(device)
            except BackendError:
                again = await self._nm.device_named(removal.name)
                if again is not None and again.real:
                    raise
                return
            self.writes += 1

    async def _save(
        self, plan: nm_plan.Plan, known: Mapping[str, nm_plan.Known]
    ) -> dict[str, str | None]:
        paths: dict[str, str | None] = {}
        for step in plan.steps:
            # A profile we are about to activate must not be activated by
            # NetworkManager's autoconnect meanwhile (a race, and a second
            # activation); activating it by hand lifts the block.
            found = known.get(step.name)
            block = step.action == nm_plan.Action.UP and (
                step.path is None or found is None or found.active_profile != step.path
            )
            for duplicate in step.duplicates:
                self._progress(f"removing a duplicate profile of {step.name}")
                await self._nm.delete_connection(duplicate)
                self.writes += 1
            path = step.path
            if path is None:
                self._progress(f"adding a profile for {step.name}")
                path = await self._nm.add_connection(
                    step.settings, to_disk=self._options.to_disk, block_autoconnect=block
                )
                self.writes += 1
            elif step.changed:
                self._progress(f"updating the profile of {step.name}")
                await self._nm.update_connection(
                    path, step.settings, to_disk=self._options.to_disk, block_autoconnect=block
                )
                self.writes += 1
            paths[step.name] = path
        return paths

    async def _deactivate(self, step: nm_plan.Step, device: Device | None) -> None:
        if device is None:
            if step.path is None:
                raise NotSupported(f"{step.name}: cannot set it down, no such interface exists")
            return  # a virtual interface that is not there is down already
        if device.is_active:
            self._progress(f"deactivating {step.name}")
            await self._nm.disconnect(device, ACTIVATION_TIMEOUT)
            self.writes += 1

    async def _bring_up_all(
        self,
        ups: Iterable[nm_plan.Step],
        paths: Mapping[str, str | None],
        known: Mapping[str, nm_plan.Known],
    ) -> None:
        """Bring up in plan order.  A controller's activation is only waited for
        until it can take its ports; the rest of its wait comes after its ports'."""
        failures: dict[str, int] = {}

        def on_signal(msg: Message) -> None:
            # Device.StateChanged(new, old, reason): why a device failed, which
            # the active connection only reports as "the device disconnected".
            if msg.interface == DEVICE and msg.member == "StateChanged" and msg.path:
                new, _, reason = msg.body
                if new == DeviceState.FAILED:
                    failures[msg.path] = int(reason)

        stop_watching = await self._nm.watch(on_signal)
        try:
            devices = await self._nm.devices()
            controllers: list[tuple[nm_plan.Step, str]] = []
            for step in ups:
                active = await self._bring_up(
                    step, paths[step.name], devices.get(step.name), known, failures
                )
                if active is not None:
                    controllers.append((step, active))
            for step, active in controllers:
                dynamic = nm_settings.dynamic_families(step.settings)
                waiting = self._nm.wait_activated(active, step.name, ACTIVATION_TIMEOUT, dynamic)
                await self._activation(step, paths[step.name], known, failures, waiting)
        finally:
            stop_watching()

    async def _bring_up(
        self,
        step: nm_plan.Step,
        path: str | None,
        device: Device | None,
        known: Mapping[str, nm_plan.Known],
        failures: Mapping[str, int],
    ) -> str | None:
        """Returns the active connection of a controller still activating, else None."""
        iface = step.iface
        if path is None:
            return None
        if device is None and iface.type in (InterfaceType.ETHERNET, InterfaceType.LOOPBACK):
            raise NotSupported(
                f"{iface.name}: no {iface.type} device named {iface.name} exists "
                "(it must be an existing interface)"
            )
        found = known.get(iface.name)
        running_ours = (
            device is not None
            and device.is_active
            and found is not None
            and found.active_profile == path
        )
        if running_ours and device is not None:
            if not step.changed and (
                step.action == nm_plan.Action.PROFILE
                or self._already_satisfied(_without_ports(iface))
            ):
                log.debug("%s already as desired", iface.name)
                return None
            self._progress(f"reapplying {iface.name}")
            try:
                await self._nm.reapply(device.path, iface.name)
                self.writes += 1
                return None
            except BackendError as err:
                log.info("%s: reapply refused (%s); activating instead", iface.name, err.message)
        elif step.action == nm_plan.Action.PROFILE:
            return None  # saved; it takes effect when the interface is next activated
        self._progress(f"activating {iface.name}")
        self.writes += 1
        controller = iface.type in CONTROLLER_TYPES
        active = await self._activation(
            step,
            path,
            known,
            failures,
            self._nm.activate(
                path,
                device.path if device is not None and device.real else "/",
                iface.name,
                ACTIVATION_TIMEOUT,
                controller=controller,
                # Up without waiting for a lease: see NetworkManagerClient.activate.
                dynamic=nm_settings.dynamic_families(step.settings),
            ),
        )
        return active if controller else None

    async def _activation(
        self,
        step: nm_plan.Step,
        path: str | None,
        known: Mapping[str, nm_plan.Known],
        failures: Mapping[str, int],
        waiting: Awaitable[T],
    ) -> T:
        """*waiting*'s result; if the activation failed, what this apply created for
        the interface goes, and the error says why the device failed when it can."""
        name = step.iface.name
        try:
            return await waiting
        except BackendError as err:
            failed = (await self._nm.devices()).get(name)
            if not _existed(known, name):
                await self._remove_failed(name, path if step.path is None else None)
            reason = DEVICE_REASONS.get(failures.get(failed.path, 0)) if failed else None
            if reason is None:
                raise
            raise BackendError(f"{err.message}: {reason}") from None

    async def _remove_failed(self, name: str, new_profile: str | None) -> None:
        """What this apply created for an interface that could not be activated goes now.

        NetworkManager leaves a software device that failed as an external link
        (which a rollback does not remove), and autoconnect would try the new
        profile again meanwhile; so the new profile goes first, then the device.
        """
        try:
            if new_profile is not None:
                await self._nm.delete_connection(new_profile)
                self.writes += 1
            device = (await self._nm.devices()).get(name)
            software = device is not None and device.device_type in nm_plan.SOFTWARE_DEVICE_TYPES
            if device is not None and device.real and software:
                await self._nm.delete_device(device)
                self.writes += 1
        except NmstateError as err:
            log.warning("%s: could not remove what failed: %s", name, err.message)

    async def _apply_dns(self, desired: NetworkState) -> None:
        assert desired.dns is not None and desired.dns.config is not None
        before = await nm_dns.read(self._nm)
        target = nm_dns.wanted(desired.dns.config, nm_dns.from_nm(before))
        if target is None:
            return
        self._progress("setting the DNS configuration")
        self._undo.append(("the DNS configuration", lambda: nm_dns.write(self._nm, before)))
        await nm_dns.write(self._nm, nm_dns.to_nm(target))
        self.writes += 1

    async def _apply_hostname(self, desired: NetworkState) -> None:
        assert desired.hostname is not None
        running, saved = nm_hostname.running(), nm_hostname.saved()
        change = nm_hostname.plan(desired.hostname, running, saved)
        if change.running is not None:
            self._progress(f"setting the hostname to {change.running}")

            async def restore_running() -> None:
                nm_hostname.set_running(running)

            self._undo.append(("the running hostname", restore_running))
            nm_hostname.set_running(change.running)
            self.writes += 1
        if change.config is not None:
            self._progress(f"saving the hostname {change.config}")
            if saved is not None:
                self._undo.append(("the saved hostname", lambda: nm_hostname.save(self._nm, saved)))
            await nm_hostname.save(self._nm, change.config)
            self.writes += 1


def _without_ports(iface: Interface) -> Interface:
    """The controller itself: its port list is taken care of by the ports' own steps."""
    return replace(
        iface,
        bridge=replace(iface.bridge, ports=None) if iface.bridge is not None else None,
        bond=replace(iface.bond, ports=None) if iface.bond is not None else None,
        vrf=replace(iface.vrf, ports=None) if iface.vrf is not None else None,
    )


def _existed(known: Mapping[str, nm_plan.Known], name: str) -> bool:
    """Was there a real device of this name before the apply?"""
    found = known.get(name)
    return found is not None and found.device is not None and found.device.real


def _device(known: Mapping[str, nm_plan.Known], name: str) -> Device | None:
    found = known.get(name)
    return found.device if found is not None else None


def _profiles_by_interface(
    profiles: Mapping[str, Settings],
) -> dict[str, list[tuple[str, Settings]]]:
    by_name: dict[str, list[tuple[str, Settings]]] = {}
    for path, settings in profiles.items():
        name = settings.get("connection", {}).get("interface-name")
        if name is not None:
            by_name.setdefault(str(name.value), []).append((path, settings))
    return by_name

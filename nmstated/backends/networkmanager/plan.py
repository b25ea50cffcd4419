"""What to do in NetworkManager for a desired state.  Pure.

From the desired state and what NetworkManager has (profiles, devices),
``make_plan`` decides which profiles to delete, which to write (and with
what), and in which order interfaces are brought up or taken down.  The
applier then only carries the plan out, so every decision here is
unit-tested without a bus.

Interfaces the request does not name are never touched, with four
exceptions nmstate also makes: ports listed by a controller in the request
(their profile says whose port they are), the interfaces whose profiles
hold routes or rules the request adds or removes, the interface whose
profile takes over route rules in effect that would otherwise be lost (their
profile goes, or goes down, or loses their IP family), and the peer of a
veth that goes absent (both ends and both profiles go).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dbus_fast import Variant

from nmstated.backends.networkmanager import order
from nmstated.backends.networkmanager import routes as nm_routes
from nmstated.backends.networkmanager import settings as nm_settings
from nmstated.backends.networkmanager.client import Device, Settings, unwrap
from nmstated.backends.networkmanager.features import CONTROLLER_KEYS, NmFeatures
from nmstated.backends.networkmanager.settings import DETACHED, PortLink, ProfileInput
from nmstated.diff import Effects, RuleMove
from nmstated.model import Interface, InterfaceState, InterfaceType, NetworkState

# NMDeviceType values of devices that exist only in software: bond, vlan,
# bridge, team, tun, ip-tunnel, macvlan, vxlan, veth, macsec, dummy, vrf.
SOFTWARE_DEVICE_TYPES = frozenset({10, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 31})
# Controllers by NMDeviceType and by profile type: the port kind they take.
_PORT_KIND_OF_DEVICE = {13: "bridge", 10: "bond", 31: "vrf"}
_PORT_KIND_OF_PROFILE = {"bridge": "bridge", "bond": "bond", "vrf": "vrf"}
# Settings in which a stacked interface names its parent.
_PARENT_SETTINGS = ("vlan", "vxlan", "macvlan")
# NMDeviceType ethernet and veth: both take an 802-3-ethernet profile.
_ETHERNET_DEVICE_TYPES = frozenset({1, 20})
_IP_SETTINGS = ("ipv4", "ipv6")
_OFF_METHODS = frozenset({"disabled", "ignore"})
_NO_RULES = Variant("aa{sv}", [])


class Action:
    UP = "up"  # save the profile, then activate (or reapply) it
    DOWN = "down"  # save the profile with autoconnect off, then deactivate
    PROFILE = "profile"  # save the profile; reapply only if it is active now


@dataclass(frozen=True, slots=True)
class Known:
    """What NetworkManager has for one interface name."""

    profiles: tuple[tuple[str, Settings], ...] = ()  # (path, settings), the active one first
    device: Device | None = None
    active_profile: str | None = None  # path of the profile active on the device
    veth_peer: str | None = None  # from the device, for a veth going absent

    @property
    def profile(self) -> tuple[str, Settings] | None:
        return self.profiles[0] if self.profiles else None


@dataclass(frozen=True, slots=True)
class Removal:
    name: str
    profile_paths: tuple[str, ...]
    delete_device: bool


@dataclass(frozen=True, slots=True)
class Step:
    iface: Interface
    action: str
    path: str | None  # the existing profile that is kept, None for a new one
    settings: Settings
    changed: bool  # the saved profile differs from what we want
    duplicates: tuple[str, ...] = ()  # other profiles of the same interface, to delete

    @property
    def name(self) -> str:
        return self.iface.name


@dataclass(frozen=True, slots=True)
class Plan:
    removals: tuple[Removal, ...] = ()
    steps: tuple[Step, ...] = ()  # in bring-up order
    moved_rules: tuple[RuleMove, ...] = ()  # route rules kept in another profile

    @property
    def downs(self) -> list[Step]:
        return [s for s in self.steps if s.action == Action.DOWN]

    @property
    def ups(self) -> list[Step]:
        return [s for s in self.steps if s.action != Action.DOWN]


@dataclass
class _Targets:
    """The interfaces the plan acts on, with how each is attached."""

    ifaces: dict[str, Interface] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    ports: dict[str, PortLink] = field(default_factory=dict)

    def add(self, iface: Interface, action: str) -> None:
        if iface.name not in self.ifaces:
            self.ifaces[iface.name] = iface
            self.actions[iface.name] = action


def make_plan(
    desired: NetworkState,
    known: Mapping[str, Known],
    features: NmFeatures,
    satisfied: Collection[str] = (),
) -> Plan:
    """The plan for *desired*; *satisfied* names the requested interfaces that
    already are as desired (verify finds nothing): their profiles are left alone
    unless routes, rules or a controller change them."""
    absent = [i for i in desired.interfaces if i.effective_state == InterfaceState.ABSENT]
    gone = _gone(absent, known)
    names_absent = {i.name for i in absent}
    targets = _targets(desired, known, gone)
    route_plan = _route_plan(desired, known, targets, gone)
    for name in sorted(route_plan.interfaces - set(targets.ifaces)):
        # A profile that only changes its routes or rules is reapplied only if active.
        targets.add(Interface(name=name), Action.PROFILE)

    steps = []
    for name, iface in targets.ifaces.items():
        given = ProfileInput(
            features=features,
            port=targets.ports.get(name),
            routes=route_plan.routes.get(name),
            rules=route_plan.rules.get(name),
        )
        found = known.get(name, Known())
        holds = name in satisfied and given.port is None and given.routes is None
        step = _step(iface, targets.actions[name], found, given, holds and given.rules is None)
        if step is not None:
            steps.append(step)
    deps = order.dependencies(
        targets.ifaces,
        {**_existing_controllers(known), **_wanted_controllers(targets)},
        {**_existing_parents(known), **_wanted_parents(targets)},
    )
    # What the user knows as an ethernet NIC keeps its device when it goes
    # absent (only its profiles go), whatever kind of link the kernel has
    # behind it (a veth whose peer lives in another namespace, say).
    nics = {i.name for i in absent if i.type == InterfaceType.ETHERNET}
    removals = [_removal(name, known.get(name, Known()), name in nics) for name in gone]
    all_deps = order.dependencies(gone, _existing_controllers(known), _existing_parents(known))
    for iface in absent:
        # A veth goes before the peer it takes along (deleting either removes both links).
        peer = iface.veth_peer or _veth_peer(known.get(iface.name))
        if peer in all_deps and peer not in names_absent:
            all_deps[iface.name].add(peer)
    return Plan(
        removals=tuple(order.tear_down_order(removals, lambda r: r.name, all_deps)),
        steps=tuple(order.bring_up_order(steps, lambda s: s.name, deps)),
        moved_rules=tuple(route_plan.moved),
    )


def effects(plan: Plan) -> Effects:
    """What the plan does that the request does not say, for a dry run's diff."""
    return Effects(
        removed=frozenset(r.name for r in plan.removals if r.profile_paths or r.delete_device),
        moved_rules=plan.moved_rules,
    )


# -- what goes ------------------------------------------------------------------------------


def _gone(absent: Sequence[Interface], known: Mapping[str, Known]) -> list[str]:
    """The names that go absent, a veth's peer included."""
    names: list[str] = []
    for iface in absent:
        names.append(iface.name)
        peer = iface.veth_peer or _veth_peer(known.get(iface.name))
        if peer and peer not in names:
            names.append(peer)
    return [n for n in dict.fromkeys(names)]


def _veth_peer(found: Known | None) -> str | None:
    if found is None:
        return None
    if found.veth_peer:
        return found.veth_peer
    for _, profile in found.profiles:
        peer = profile.get("veth", {}).get("peer")
        if peer is not None:
            return str(unwrap(peer))
    return None


def _removal(name: str, found: Known, nic: bool) -> Removal:
    device = found.device
    return Removal(
        name=name,
        profile_paths=tuple(path for path, _ in found.profiles),
        delete_device=bool(
            not nic
            and device is not None
            and device.real
            and device.device_type in SOFTWARE_DEVICE_TYPES
        ),
    )


# -- what stays ----------------------------------------------------------------------------------


def _targets(desired: NetworkState, known: Mapping[str, Known], gone: list[str]) -> _Targets:
    targets = _Targets()
    for iface in desired.interfaces:
        state = iface.effective_state
        if state == InterfaceState.UP:
            targets.add(iface, Action.UP)
        elif state == InterfaceState.DOWN:
            targets.add(iface, Action.DOWN)
    # Ports named by a controller in the request: attach them (and give them
    # their bridge-port settings) even if the request does not list them.
    for controller in list(targets.ifaces.values()):
        names = controller.port_names
        if names is None or targets.actions[controller.name] == Action.DOWN:
            continue
        kind = nm_settings.PORT_KIND.get(controller.type or "") or _known_port_kind(
            known.get(controller.name)
        )
        for name in names:
            entry = controller.bridge.port(name) if controller.bridge else None
            targets.ports[name] = PortLink(controller.name, kind or "", entry)
            targets.add(Interface(name=name), Action.UP)
    for name, iface in targets.ifaces.items():
        if name in targets.ports or iface.controller is None:
            continue
        if iface.controller == "" or iface.controller in gone:
            targets.ports[name] = DETACHED
        else:
            ctrl = desired.interface(iface.controller)
            kind = nm_settings.PORT_KIND.get((ctrl.type if ctrl else None) or "") or (
                _known_port_kind(known.get(iface.controller))
            )
            port_entry = ctrl.bridge.port(name) if ctrl and ctrl.bridge else None
            targets.ports[name] = PortLink(iface.controller, kind or "", port_entry)
    for name in gone:
        targets.ifaces.pop(name, None)
        targets.actions.pop(name, None)
    return targets


def _known_port_kind(found: Known | None) -> str | None:
    if found is None:
        return None
    if found.device is not None and found.device.device_type in _PORT_KIND_OF_DEVICE:
        return _PORT_KIND_OF_DEVICE[found.device.device_type]
    if found.profile is not None:
        nm_type = unwrap(found.profile[1].get("connection", {}).get("type", Variant("s", "")))
        return _PORT_KIND_OF_PROFILE.get(str(nm_type))
    return None


def _route_plan(
    desired: NetworkState, known: Mapping[str, Known], targets: _Targets, gone: list[str]
) -> nm_routes.RoutePlan:
    routes = desired.routes.config if desired.routes is not None else None
    rules = desired.route_rules.config if desired.route_rules is not None else None
    if routes is None and rules is None and not _touches_rules(known, targets, gone):
        return nm_routes.RoutePlan()
    before: dict[str, nm_routes.ProfileRoutes] = {}
    for name, found in known.items():
        if found.profile is not None and not _is_port_profile(found.profile[1]):
            path, settings = found.profile
            before[name] = nm_routes.ProfileRoutes.from_plain(
                name,
                nm_settings.plain({k: v for k, v in settings.items() if k in _IP_SETTINGS}),
                active=found.active_profile == path,
            )
    views = {name: view for name, view in before.items() if name not in gone}
    up = [n for n, a in targets.actions.items() if a == Action.UP]
    for name, action in targets.actions.items():
        iface = targets.ifaces[name]
        port = targets.ports.get(name)
        if port is not None and not port.detached:
            views.pop(name, None)  # a port has no IP configuration to hold routes
            continue
        if action == Action.DOWN:
            if name in views:
                views[name] = replace(views[name], active=False)
            continue
        view = views.get(name, nm_routes.ProfileRoutes(name))
        found = known.get(name, Known())
        existing = found.profile[1] if found.profile is not None else {}
        families = set(view.families)
        for family, translate in ((4, nm_settings.ipv4), (6, nm_settings.ipv6)):
            ip = getattr(iface, f"ipv{family}")
            if ip is None:
                continue
            # The method the profile will have (enabled with no address is off, say).
            method = unwrap(translate(ip, existing.get(f"ipv{family}"))["method"])
            (families.discard if method in _OFF_METHODS else families.add)(family)
        views[name] = replace(view, families=frozenset(families), active=True)
    return nm_routes.plan(routes, rules, views, up=up, gone=gone, before=before)


def _touches_rules(known: Mapping[str, Known], targets: _Targets, gone: list[str]) -> bool:
    """Does the request change a profile that holds route rules in effect?"""
    for name in [*gone, *targets.ifaces]:
        found = known.get(name)
        if found is None or found.profile is None or found.active_profile != found.profile[0]:
            continue
        settings = found.profile[1]
        if any(unwrap(settings.get(ip, {}).get("routing-rules", _NO_RULES)) for ip in _IP_SETTINGS):
            return True
    return False


def _is_port_profile(settings: Settings) -> bool:
    connection = settings.get("connection", {})
    return any(connection.get(key) for key in CONTROLLER_KEYS)


def _step(
    iface: Interface, action: str, found: Known, given: ProfileInput, holds: bool
) -> Step | None:
    """What to save for one interface; None if there is nothing to do at all."""
    primary = found.profile
    path, existing = primary if primary is not None else (None, None)
    device = found.device
    duplicates = tuple(p for p, _ in found.profiles[1:])
    if holds and action == Action.DOWN:
        # Down already: nothing to configure, only keep it from coming up again.
        if path is None or existing is None:
            return None
        off = nm_settings.merge_settings(
            existing, {"connection": {"autoconnect": Variant("b", False)}}
        )
        changed = not nm_settings.same(off, existing)
        return Step(iface, action, path, off, changed, duplicates)
    running = path is not None and found.active_profile == path
    if holds and action == Action.UP and running and path is not None and existing is not None:
        # Already as desired and running this profile: an apply that holds writes nothing.
        return Step(iface, action, path, existing, False, duplicates)
    if iface.type is None and existing is None and device is not None:
        # A NIC (or a veth from outside) without a profile yet: a plain ethernet profile.
        iface = replace(
            iface,
            type=InterfaceType.ETHERNET if device.device_type in _ETHERNET_DEVICE_TYPES else None,
        )
    wanted = nm_settings.build(iface, existing, given)
    if action == Action.DOWN:
        wanted = nm_settings.merge_settings(
            wanted, {"connection": {"autoconnect": Variant("b", False)}}
        )
    changed = existing is None or not nm_settings.same(wanted, existing)
    return Step(iface, action, path, wanted, changed, duplicates)


def _existing_controllers(known: Mapping[str, Known]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, found in known.items():
        if found.profile is None:
            continue
        connection = found.profile[1].get("connection", {})
        for key in CONTROLLER_KEYS:
            if key in connection:
                out[name] = str(unwrap(connection[key]))
    return out


def _wanted_controllers(targets: _Targets) -> dict[str, str]:
    return {name: link.controller for name, link in targets.ports.items() if not link.detached}


def _existing_parents(known: Mapping[str, Known]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, found in known.items():
        if found.profile is None:
            continue
        for setting in _PARENT_SETTINGS:
            parent = found.profile[1].get(setting, {}).get("parent")
            if parent is not None:
                out[name] = str(unwrap(parent))
    return out


def _wanted_parents(targets: _Targets) -> dict[str, str]:
    return {name: iface.base_iface for name, iface in targets.ifaces.items() if iface.base_iface}


def describe(plan: Plan) -> list[dict[str, Any]]:
    """The plan in plain terms, for logs and tests."""
    out: list[dict[str, Any]] = [
        {"remove": r.name, "profiles": len(r.profile_paths), "device": r.delete_device}
        for r in plan.removals
    ]
    out.extend(
        {"name": s.name, "action": s.action, "new": s.path is None, "changed": s.changed}
        for s in plan.steps
    )
    return out

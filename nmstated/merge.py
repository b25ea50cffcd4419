"""Desired state laid over the current one, as nmstate users expect.  Pure.

* Only the interfaces named in the request are touched, plus those the
  request implies: the ports a bridge gains or loses, the peer of a new veth,
  the children of a parent that goes absent.
* Within an interface, mappings merge key by key and a list given replaces
  the current list (``overlay``).
* A missing ``type`` is taken from the current state; a new interface must
  name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nmstated import verify
from nmstated.errors import InvalidArgument
from nmstated.model import Interface, InterfaceState, InterfaceType, NetworkState
from nmstated.schema import new_interface_problems

# Type sections whose ``base-iface`` makes an interface the child of another.
_CHILD_SECTIONS = ("vlan", "vxlan", "mac-vlan", "macvtap")
# Type sections that list the interface's ports.
_PORT_LISTS = {"bridge": ("port",), "link-aggregation": ("port",), "vrf": ("port",)}


def overlay(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """*desired* laid over *current*: mappings merge, anything else (lists too) replaces."""
    merged = dict(current)
    for key, value in desired.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def merged_interfaces(desired: NetworkState, current: NetworkState) -> dict[str, dict[str, Any]]:
    """Each desired interface as it should end up: its current state with the request laid over."""
    result = {}
    for iface in desired.interfaces:
        existing = current.interface(iface.name)
        base = existing.to_dict() if existing is not None else {}
        want = iface.to_dict()
        want.setdefault("state", InterfaceState.UP)  # nmstate: a named interface is up
        merged = overlay(base, want)
        for family in ("ipv4", "ipv6"):
            if merged.get(family, {}).get("enabled") is False:
                merged[family] = {"enabled": False}  # a disabled family keeps no addresses
        result[iface.name] = merged
    return result


def port_names(iface: Mapping[str, Any]) -> list[str] | None:
    """The ports an interface dict lists, or None if it says nothing about ports."""
    for section, path in _PORT_LISTS.items():
        value: Any = iface.get(section)
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                value = None
                break
            value = value[key]
        if isinstance(value, list):
            return [p["name"] if isinstance(p, Mapping) else str(p) for p in value]
    return None


def implied_interfaces(desired: NetworkState, current: NetworkState) -> list[Interface]:
    """Interfaces the request changes without naming them."""
    named = {iface.name for iface in desired.interfaces}
    implied: dict[str, dict[str, Any]] = {}

    def imply(name: str, **changes: Any) -> None:
        if name not in named:
            implied.setdefault(name, {"name": name}).update(changes)

    ports_of, children_of = _current_links(current)
    for iface in desired.interfaces:
        if iface.effective_state == InterfaceState.ABSENT:
            for port in ports_of.get(iface.name, ()):
                imply(port, controller="")
            for child in children_of.get(iface.name, ()):
                imply(child, state=InterfaceState.ABSENT)
            continue
        ports = port_names(iface.to_dict())
        if ports is not None:
            for port in ports:
                existing = current.interface(port)
                if existing is None and port not in named:
                    raise InvalidArgument(
                        f"{iface.name}: port {port} does not exist; "
                        "create it in the same request or leave it out of the port list"
                    )
                if existing is None or port not in ports_of.get(iface.name, ()):
                    imply(port, controller=iface.name)
            for other in ports_of.get(iface.name, ()):
                if other not in ports:
                    imply(other, controller="")
        peer = iface.veth_peer
        if (
            peer is not None
            and current.interface(iface.name) is None
            and current.interface(peer) is None
        ):
            imply(peer, type="veth", state=InterfaceState.UP, veth={"peer": iface.name})
    return [Interface.from_dict(data) for data in implied.values()]


def _current_links(current: NetworkState) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Controller -> its ports, and parent -> its children (VLAN, VXLAN...), as they are now;
    built once, not per interface of the request."""
    ports_of: dict[str, list[str]] = {}
    children_of: dict[str, list[str]] = {}
    for other in current.interfaces:
        data = other.to_dict()
        controller = data.get("controller")
        if controller:
            ports_of.setdefault(controller, []).append(other.name)
        for section in _CHILD_SECTIONS:
            base = (data.get(section) or {}).get("base-iface")
            if base:
                children_of.setdefault(base, []).append(other.name)
                break
    return ports_of, children_of


def with_implied(desired: NetworkState, current: NetworkState) -> NetworkState:
    extra = implied_interfaces(desired, current)
    if not extra:
        return desired
    return replace(desired, interfaces=desired.interfaces + tuple(extra))


def resolve_types(desired: NetworkState, current: NetworkState) -> NetworkState:
    """Fill in a missing ``type`` from the current state; a new interface must name it."""
    resolved: list[Interface] = []
    problems: list[str] = []
    for index, iface in enumerate(desired.interfaces):
        if iface.type is None:
            existing = current.interface(iface.name)
            if existing is not None and existing.type is not None:
                iface = replace(iface, type=existing.type)
            elif iface.effective_state not in (InterfaceState.ABSENT, InterfaceState.IGNORE):
                problems.append(
                    f"interfaces[{index}] ({iface.name}): no interface of that name exists, "
                    "so 'type' is required to create it"
                )
        resolved.append(iface)
    if problems:
        raise InvalidArgument("; ".join(problems))
    return replace(desired, interfaces=tuple(resolved))


def check_against_current(desired: NetworkState, current: NetworkState) -> None:
    """What can be known wrong before touching anything (e.g. a NIC that does not exist)."""
    existing = {iface.name for iface in current.interfaces}
    problems = new_interface_problems(desired.to_dict(), existing)
    for index, iface in enumerate(desired.interfaces):
        now = current.interface(iface.name)
        if now is None:
            continue
        if (
            iface.effective_state != InterfaceState.ABSENT
            and iface.type is not None
            and now.type is not None
            and not verify.type_compatible(iface.type, now.type)
        ):
            problems.append(
                f"interfaces[{index}]: {iface.name} is of type {now.type} and cannot become "
                f"{iface.type} (remove it first, in another request)"
            )
        if now.type != InterfaceType.LOOPBACK:
            continue
        # NetworkManager keeps the loopback interface up whatever a profile says:
        # a request to remove it or take it down could only be reported done falsely.
        if iface.effective_state == InterfaceState.ABSENT:
            problems.append(
                f"interfaces[{index}]: the loopback interface {iface.name} cannot be removed"
            )
        elif iface.effective_state == InterfaceState.DOWN:
            problems.append(
                f"interfaces[{index}]: the loopback interface {iface.name} cannot be taken down"
            )
    problems += _unknown_route_interfaces(desired, existing)
    if problems:
        raise InvalidArgument("; ".join(problems) + "; nothing was changed")


def _unknown_route_interfaces(desired: NetworkState, existing: set[str]) -> list[str]:
    """Routes to add through an interface that neither exists nor is created here."""
    if desired.routes is None or not desired.routes.config:
        return []
    created = {
        iface.name for iface in desired.interfaces if iface.effective_state != InterfaceState.ABSENT
    }
    return [
        f"routes.config[{index}]: next-hop-interface {route.next_hop_interface} does not exist"
        for index, route in enumerate(desired.routes.config)
        if not route.is_absent
        and route.next_hop_interface is not None
        and route.next_hop_interface not in existing | created
    ]


def plan_input(desired: NetworkState, current: NetworkState) -> NetworkState:
    """What the backend acts on: the request with its implied interfaces, types resolved."""
    check_against_current(desired, current)
    return resolve_types(with_implied(desired, current), current)

"""Desired state laid over the current one, as nmstate users expect.  Pure.

Only the interfaces named in the request are touched; within one, keys not
given keep their current value (NetworkManager keeps them in the profile).
"""

from __future__ import annotations

from dataclasses import replace

from nmstated.errors import InvalidArgument
from nmstated.model import Interface, InterfaceState, NetworkState


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

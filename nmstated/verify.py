"""Is the desired state a subset of the current one?  Pure functions.

Harmless differences never fail verification: MAC case, IPv6 spelling
(the model keeps one spelling per address), address order, link-local and
dynamic addresses, and an ``ethernet`` that the kernel sees as a veth.
"""

from __future__ import annotations

from nmstated.model import (
    Interface,
    InterfaceState,
    InterfaceType,
    IpAddress,
    IpConfig,
    NetworkState,
)

# Types the kernel may report for what the user calls ethernet.
_COMPATIBLE_TYPES = {InterfaceType.ETHERNET: {InterfaceType.ETHERNET, InterfaceType.VETH}}


def problems(desired: NetworkState, current: NetworkState) -> list[str]:
    """Each mismatch as `interfaces.NAME.path: desired X, current Y`."""
    found: list[str] = []
    for want in desired.interfaces:
        found.extend(interface_problems(want, current.interface(want.name)))
    return found


def interface_problems(want: Interface, have: Interface | None) -> list[str]:
    where = f"interfaces.{want.name}"
    state = want.effective_state
    if state == InterfaceState.IGNORE:
        return []
    if state == InterfaceState.ABSENT:
        if have is None or have.type == InterfaceType.ETHERNET:
            return []  # a NIC cannot vanish; absent means "no profile" for it
        return [f"{where}: desired absent, but it still exists"]
    if have is None:
        return [f"{where}: desired {state}, but no such interface exists"]
    found: list[str] = []

    def differ(path: str, desired: object, current: object) -> None:
        found.append(f"{where}.{path}: desired {desired}, current {current}")

    if want.type is not None and have.type not in _COMPATIBLE_TYPES.get(want.type, {want.type}):
        differ("type", want.type, have.type)
    if have.state != state:
        differ("state", state, have.state)
    if state == InterfaceState.DOWN:
        return found
    if want.mtu is not None and want.mtu != have.mtu:
        differ("mtu", want.mtu, have.mtu)
    if want.mac_address is not None and want.mac_address != have.mac_address:
        differ("mac-address", want.mac_address, have.mac_address)
    for family in ("ipv4", "ipv6"):
        wanted_ip: IpConfig | None = getattr(want, family)
        if wanted_ip is not None:
            found.extend(_ip_problems(f"{where}.{family}", wanted_ip, getattr(have, family)))
    return found


def _ip_problems(where: str, want: IpConfig, have: IpConfig | None) -> list[str]:
    have = have or IpConfig(enabled=False, addresses=())
    current = {a for a in have.static_addresses if not a.is_link_local}
    if not want.wants_enabled:
        if current:
            return [f"{where}.enabled: desired false, current addresses {_fmt(current)}"]
        return []
    if want.dhcp or want.autoconf or want.addresses is None:
        # Dynamic configuration is checked through NetworkManager's profile, not the kernel.
        return []
    desired = {a for a in want.static_addresses}
    if desired == current or (want.extra.get("allow-extra-address") and desired <= current):
        return []
    return [f"{where}.address: desired {_fmt(desired)}, current {_fmt(current)}"]


def _fmt(addresses: set[IpAddress]) -> str:
    items = sorted(f"{a.ip}/{a.prefix_length}" for a in addresses)
    return "[" + ", ".join(items) + "]" if items else "none"

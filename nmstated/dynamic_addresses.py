"""Addresses obtained at run time in a desired state, as nmstate treats them.  Pure.

Show lists the addresses a DHCP server leased or a router advertisement
configured, with their remaining ``valid-life-time`` / ``preferred-life-time``
(``"86390sec"``); static addresses have no lifetime keys.  So that Show's
output can be applied back unchanged, a desired state is cleaned before
anything else looks at it (nmstate 2's ``sanitize``/``merge`` of ``ipv4`` and
``ipv6``):

* An address listed with a lifetime other than ``forever`` is ignored: it is
  what the server or router handed out, not configuration.  The addresses
  left are the static ones, kept next to DHCP/autoconf as asked.
* A family that goes from dynamic to static (``dhcp: false`` on an interface
  whose family is dynamic now) and lists no address, or only dynamic ones,
  keeps the addresses it has now, as static ones (nmstate: "dynamic IP
  address goes static").

Why here, on the desired state, rather than in the NetworkManager settings
or in verification: every later step (the dry-run diff, the profile, the
verification, the rollback check) then sees one and the same request, the one
that is applied; none of them has to know about lifetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from nmstated.model import Interface, IpAddress, IpConfig, NetworkState


def without_dynamic_addresses(
    desired: NetworkState, current: NetworkState
) -> tuple[NetworkState, list[str]]:
    """*desired* with run-time addresses dropped (or made static, see above), and one
    line per interface saying what was done, for the job's log."""
    interfaces: list[Interface] = []
    notes: list[str] = []
    changed = False
    for iface in desired.interfaces:
        have = current.interface(iface.name)
        said: list[str] = []
        ipv4 = _clean("ipv4", iface.ipv4, have.ipv4 if have is not None else None, said)
        ipv6 = _clean("ipv6", iface.ipv6, have.ipv6 if have is not None else None, said)
        if ipv4 is not iface.ipv4 or ipv6 is not iface.ipv6:
            iface = replace(iface, ipv4=ipv4, ipv6=ipv6)
            changed = True
        interfaces.append(iface)
        if said:
            notes.append(f"{iface.name}: " + "; ".join(said))
    if not changed:
        return desired, notes
    return replace(desired, interfaces=tuple(interfaces)), notes


def _clean(
    family: str, want: IpConfig | None, have: IpConfig | None, said: list[str]
) -> IpConfig | None:
    """*want* cleaned; what was done is appended to *said*."""
    if want is None:
        return None
    cleaned, note = _cleaned(family, want, have)
    if note:
        said.append(note)
    return cleaned


def _cleaned(family: str, want: IpConfig, have: IpConfig | None) -> tuple[IpConfig, str]:
    listed = want.addresses
    if _goes_static(want, have) and (listed is None or all(a.is_dynamic for a in listed)):
        kept = _static(a for a in (have.addresses if have is not None else None) or ())
        kept = tuple(a for a in kept if not (family == "ipv6" and a.is_link_local))
        if kept:
            return replace(want, addresses=kept), (
                f"{family} is no longer dynamic: its current addresses "
                f"{_spelled(kept)} are kept as static ones"
            )
    if listed is None:
        return want, ""
    if not any(_has_lifetime(a) for a in listed):
        return want, ""
    dynamic = [a for a in listed if a.is_dynamic]
    static = _static(a for a in listed if not a.is_dynamic)
    note = ""
    if dynamic:
        note = (
            f"ignoring {family} addresses {_spelled(dynamic)}: listed with a lifetime, "
            "they were obtained by DHCP or autoconf and are not configuration"
        )
    return replace(want, addresses=static), note


def _goes_static(want: IpConfig, have: IpConfig | None) -> bool:
    """The request turns a dynamic family (as it is now) into an enabled static one."""
    if have is None or not have.is_dynamic:
        return False
    enabled = want.enabled if want.enabled is not None else have.enabled is not False
    if not enabled or (want.dhcp is None and want.autoconf is None):
        return False
    merged = replace(
        have,
        enabled=True,
        dhcp=want.dhcp if want.dhcp is not None else have.dhcp,
        autoconf=want.autoconf if want.autoconf is not None else have.autoconf,
    )
    return not merged.is_dynamic


def _static(addresses: Iterable[IpAddress]) -> tuple[IpAddress, ...]:
    """The addresses without their lifetimes (a ``forever`` one is static already)."""
    return tuple(IpAddress(a.ip, a.prefix_length) for a in addresses)


def _has_lifetime(address: IpAddress) -> bool:
    return address.valid_life_time is not None or address.preferred_life_time is not None


def _spelled(addresses: Iterable[IpAddress]) -> str:
    return ", ".join(f"{a.ip}/{a.prefix_length}" for a in addresses)

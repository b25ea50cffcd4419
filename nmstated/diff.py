"""What an apply would change, in the nmstate schema.  Pure.

The diff lists each desired interface that does not already hold, with the
keys the request gives for it; interfaces that already match are left out.
"""

from __future__ import annotations

from typing import Any

from nmstated import verify
from nmstated.model import NetworkState


def diff(desired: NetworkState, current: NetworkState) -> dict[str, Any]:
    changed = [
        iface.to_dict()
        for iface in desired.interfaces
        if verify.interface_problems(iface, current.interface(iface.name))
    ]
    return {"interfaces": changed}

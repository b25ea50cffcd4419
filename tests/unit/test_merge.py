from __future__ import annotations

import pytest

from nmstated.errors import InvalidArgument
from nmstated.merge import resolve_types
from nmstated.model import NetworkState

CURRENT = NetworkState.from_dict({"interfaces": [{"name": "eth1", "type": "veth"}]})


def test_missing_type_comes_from_current_state() -> None:
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth1", "mtu": 1400}]})
    (iface,) = resolve_types(desired, CURRENT).interfaces
    assert (iface.type, iface.mtu) == ("veth", 1400)


def test_new_interface_without_type_is_rejected_with_its_index() -> None:
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth1"}, {"name": "new0"}]})
    with pytest.raises(InvalidArgument, match=r"interfaces\[1\] \(new0\): .*'type' is required"):
        resolve_types(desired, CURRENT)


def test_absent_needs_no_type() -> None:
    desired = NetworkState.from_dict({"interfaces": [{"name": "gone0", "state": "absent"}]})
    assert resolve_types(desired, CURRENT).interfaces[0].type is None

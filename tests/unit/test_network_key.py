"""Show sorts routes by _network_key: it must order exactly as ipaddress does."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmstated.backends.kernel.to_nmstate import _network_key


def reference(destination: str) -> tuple[int, int, int]:
    network = ipaddress.ip_network(destination, strict=False)
    return (network.version, int(network.network_address), network.prefixlen)


ipv4 = st.builds(
    lambda value, prefix: f"{ipaddress.IPv4Address(value)}/{prefix}",
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
ipv6 = st.builds(
    lambda value, prefix: f"{ipaddress.IPv6Address(value)}/{prefix}",
    st.integers(0, 2**128 - 1),
    st.integers(0, 128),
)


@given(st.one_of(ipv4, ipv6))
def test_same_key_as_ipaddress(destination: str) -> None:
    assert _network_key(destination) == reference(destination)


@pytest.mark.parametrize(
    "destination",
    ["0.0.0.0/0", "::/0", "10.1.2.3", "fe80::1", "::ffff:192.0.2.1/96", "192.0.2.255/24"],
)
def test_edge_cases(destination: str) -> None:
    assert _network_key(destination) == reference(destination)


@pytest.mark.parametrize(
    "destination", ["x/1", "10.0.0.0/33", "10.0.0.0/+1", "10.0.0.0/ 1", "10.0.0.0/²", "::/129"]
)
def test_bad_input_raises_as_ipaddress_does(destination: str) -> None:
    with pytest.raises(ValueError):
        reference(destination)
    with pytest.raises(ValueError):
        _network_key(destination)

"""Model → NetworkManager settings."""

from __future__ import annotations

from typing import Any

import pytest
from dbus_fast import Variant

from nmstated.backends.networkmanager import settings
from nmstated.errors import NotImplementedByDaemon
from nmstated.model import Interface


def iface(**data: Any) -> Interface:
    return Interface.from_dict({"name": "eth1", "type": "ethernet", **data})


def test_new_static_ethernet_profile() -> None:
    built = settings.plain(
        settings.build(
            iface(
                mtu=1400,
                ipv4={"enabled": True, "address": [{"ip": "192.0.2.1", "prefix-length": 24}]},
            ),
            None,
        )
    )
    assert built["connection"]["type"] == "802-3-ethernet"
    assert built["connection"]["interface-name"] == "eth1"
    assert built["connection"]["id"] == "eth1"
    assert built["802-3-ethernet"] == {"mtu": 1400}
    assert built["ipv4"] == {
        "method": "manual",
        "address-data": [{"address": "192.0.2.1", "prefix": 24}],
    }
    assert built["ipv6"]["method"] == "disabled"


@pytest.mark.parametrize(
    ("ipv6", "method"),
    [
        ({"enabled": False}, "disabled"),
        ({"enabled": True, "dhcp": True, "autoconf": True}, "auto"),
        ({"enabled": True, "dhcp": True, "autoconf": False}, "dhcp"),
        ({"enabled": True, "address": [{"ip": "2001:db8::1", "prefix-length": 64}]}, "manual"),
        ({"enabled": True}, "link-local"),
    ],
)
def test_ipv6_methods(ipv6: dict[str, Any], method: str) -> None:
    assert settings.plain(settings.build(iface(ipv6=ipv6), None))["ipv6"]["method"] == method


def test_ipv4_dhcp_and_disabled() -> None:
    assert settings.ipv4(iface(ipv4={"enabled": True, "dhcp": True}).ipv4)["method"].value == "auto"
    assert settings.ipv4(iface(ipv4={"enabled": False}).ipv4)["method"].value == "disabled"


def test_existing_profile_keeps_what_we_do_not_model() -> None:
    existing = {
        "connection": {
            "id": Variant("s", "office"),
            "uuid": Variant("s", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
            "type": Variant("s", "802-3-ethernet"),
            "interface-name": Variant("s", "eth1"),
            "zone": Variant("s", "trusted"),
        },
        "ipv4": {
            "method": Variant("s", "manual"),
            "addresses": Variant("aau", [[1, 24, 0]]),
            "dns-search": Variant("as", ["example.org"]),
        },
        "802-3-ethernet": {"wake-on-lan": Variant("u", 64)},
    }
    desired = iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.7", "prefix-length": 24}]})
    built = settings.plain(settings.build(desired, existing))
    assert built["connection"]["id"] == "office"
    assert built["connection"]["uuid"] == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert built["connection"]["zone"] == "trusted"
    assert built["ipv4"]["dns-search"] == ["example.org"]
    assert "addresses" not in built["ipv4"]  # the legacy key would contradict address-data
    assert built["802-3-ethernet"] == {"wake-on-lan": 64}


def test_rebuilding_an_applied_profile_changes_nothing() -> None:
    desired = iface(ipv4={"enabled": True, "address": [{"ip": "192.0.2.7", "prefix-length": 24}]})
    first = settings.build(desired, None)
    assert settings.plain(settings.build(desired, first)) == settings.plain(first)


def test_veth_peer() -> None:
    built = settings.plain(
        settings.build(
            Interface.from_dict({"name": "v0", "type": "veth", "veth": {"peer": "v1"}}), None
        )
    )
    assert built["connection"]["type"] == "veth"
    assert built["veth"] == {"peer": "v1"}


def test_types_not_yet_applied_say_so() -> None:
    with pytest.raises(NotImplementedByDaemon, match="br0: interfaces of type linux-bridge"):
        settings.build(Interface.from_dict({"name": "br0", "type": "linux-bridge"}), None)

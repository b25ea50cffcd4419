"""NetworkManager's view laid over the kernel's: state, dhcp/autoconf, auto-* options."""

from __future__ import annotations

from typing import Any

from nmstated.backends.networkmanager.client import Device, DeviceState
from nmstated.current import _overlay


def device(state: int = DeviceState.ACTIVATED, managed: bool = True) -> Device:
    return Device(
        path="/org/freedesktop/NetworkManager/Devices/2",
        name="eth1",
        state=state,
        managed=managed,
        device_type=1,
        active_connection="/org/freedesktop/NetworkManager/ActiveConnection/1",
        real=True,
    )


def kernel(**families: Any) -> dict[str, Any]:
    return {"name": "eth1", "type": "ethernet", "state": "up", **families}


def test_unmanaged_is_ignore_and_disconnected_is_down() -> None:
    iface = kernel()
    _overlay(iface, device(managed=False), None)
    assert iface["state"] == "ignore"
    iface = kernel()
    _overlay(iface, device(state=DeviceState.DISCONNECTED), None)
    assert iface["state"] == "down"


def test_ip_configuration_stage_is_up_and_earlier_stages_are_down() -> None:
    """NetworkManager holds a device waiting for its DHCP lease in IP_CONFIG (70): up."""
    for state, shown in ((40, "down"), (60, "down"), (DeviceState.IP_CONFIG, "up"), (90, "up")):
        iface = kernel(ipv4={"enabled": False}, ipv6={"enabled": False})
        _overlay(iface, device(state=state), None)
        assert iface["state"] == shown, state


def test_dhcp_waiting_for_a_lease_is_enabled_with_its_auto_options() -> None:
    iface = kernel(ipv4={"enabled": False}, ipv6={"enabled": True, "address": []})
    applied = {
        "ipv4": {
            "method": "auto",
            "ignore-auto-dns": True,
            "never-default": True,
            "route-table": 100,
            "route-metric": 50,
        },
        "ipv6": {"method": "link-local"},
    }
    _overlay(iface, device(), applied)
    assert iface["ipv4"] == {
        "enabled": True,
        "dhcp": True,
        "auto-dns": False,
        "auto-gateway": False,
        "auto-routes": True,
        "auto-route-table-id": 100,
        "auto-route-metric": 50,
    }
    assert iface["ipv6"] == {"enabled": True, "dhcp": False, "autoconf": False, "address": []}


def test_ipv6_auto_is_dhcp_and_autoconf_with_defaults() -> None:
    iface = kernel(ipv6={"enabled": True, "address": [{"ip": "2001:db8::5", "prefix-length": 64}]})
    _overlay(iface, device(), {"ipv6": {"method": "auto"}})
    assert iface["ipv6"] == {
        "enabled": True,
        "dhcp": True,
        "autoconf": True,
        "auto-dns": True,
        "auto-gateway": True,
        "auto-routes": True,
        "auto-route-table-id": 0,
        "address": [{"ip": "2001:db8::5", "prefix-length": 64}],
    }


def test_static_and_disabled() -> None:
    addresses = [{"ip": "192.0.2.1", "prefix-length": 24}]
    iface = kernel(ipv4={"enabled": True, "address": addresses}, ipv6={"enabled": True})
    _overlay(iface, device(), {"ipv4": {"method": "manual"}, "ipv6": {"method": "disabled"}})
    assert iface["ipv4"] == {"enabled": True, "dhcp": False, "address": addresses}
    assert iface["ipv6"] == {"enabled": False}


def test_kernel_addresses_win_over_a_disabled_method_snapshot() -> None:
    """An externally connected device's generated profile may say disabled; addresses win."""
    addresses = [{"ip": "2001:db8:1::1", "prefix-length": 64}]
    iface = kernel(ipv6={"enabled": True, "address": addresses})
    _overlay(iface, device(), {"ipv6": {"method": "disabled"}})
    assert iface["ipv6"] == {"enabled": True, "address": addresses}

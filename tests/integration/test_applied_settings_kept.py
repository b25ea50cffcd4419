"""Show asks NetworkManager for a device's applied settings only when they may
have changed: once, then again after an apply touched that device alone."""

from __future__ import annotations

from tests.bus_monitor import BusMessage, bus_messages
from tests.helpers import Ctl, static_nic_state
from tests.jobs import NEW, OLD, eth1_state

ASKED = (
    "type='method_call',interface='org.freedesktop.NetworkManager.Device',"
    "member='GetAppliedConnection'"
)


def asked_for(messages: list[BusMessage]) -> list[str]:
    """Object paths of the devices whose applied settings were asked for."""
    return sorted(m.header.split("path=")[1].split(";")[0] for m in messages)


def test_show_asks_for_applied_settings_once_per_change(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    for address in (OLD, NEW):  # eth1 and eth2 active, one of them changed twice
        assert nmstatectl("apply", "-", stdin=eth1_state(address)).returncode == 0
    assert nmstatectl("apply", "-", stdin=static_nic_state("eth2", "198.51.100.7")).returncode == 0
    assert nmstatectl("show").returncode == 0  # whatever was not kept yet is now

    with bus_messages(box, ASKED) as again:
        shown = nmstatectl("show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert asked_for(again) == []

    with bus_messages(box, ASKED) as after_change:
        assert nmstatectl("apply", "-", stdin=eth1_state(OLD)).returncode == 0
        assert nmstatectl("show", "--json").returncode == 0
    eth1 = box.nmcli("-g", "GENERAL.DBUS-PATH", "device", "show", "eth1").stdout.strip()
    assert set(asked_for(after_change)) == {eth1}

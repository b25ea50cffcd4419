"""The files a distribution installs: systemd unit, bus policy, activation file, polkit action."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nmstated.daemon import BUS_NAME
from nmstated.service.polkit import APPLY_ACTION
from tests.helpers import REPO

UNIT = REPO / "systemd" / "nmstated.service"
INSTALLED_EXEC = "ExecStart=/usr/sbin/nmstated"


def verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify, with ExecStart pointing at this checkout's nmstated.

    verify insists the ExecStart binary exists; the unit names where a
    package installs it (/usr/bin), which a checkout does not have.  Only that
    one line is changed.  The man page check is off: nmstatectl(8) is not
    installed from a checkout either.
    """
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    assert unit_text.count(INSTALLED_EXEC) == 1
    here = Path(sys.executable).with_name("nmstated")
    copy = tmp_path / "nmstated.service"
    copy.write_text(unit_text.replace(INSTALLED_EXEC, f"ExecStart={here}"))
    return subprocess.run(
        [tool, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_systemd_analyze_verify_passes_without_a_warning(tmp_path: Path) -> None:
    result = verify(UNIT.read_text(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
    result = verify(broken, tmp_path)
    assert "Unknown key 'ProtectSytem'" in result.stderr


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT)
    return parser


def test_the_unit_is_a_notify_service_owning_the_bus_name() -> None:
    service = unit()["Service"]
    assert service["Type"] == "notify"
    assert service["BusName"] == BUS_NAME
    assert service["WatchdogSec"] == "30s"
    assert service["RuntimeDirectoryPreserve"] == "yes"
    assert "NetworkManager.service" in unit()["Unit"]["After"].split()
    assert unit()["Unit"]["Wants"] == "NetworkManager.service"


def test_the_unit_is_hardened() -> None:
    service = unit()["Service"]
    # netlink's receive buffer, and sethostname(2) for the running hostname
    assert set(service["CapabilityBoundingSet"].split()) == {"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}
    assert "sethostname" in service["SystemCallFilter"].split()
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_NETLINK"}
    for key in ("ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelModules"):
        assert service[key] == "yes", key
    assert "ProtectHostname" not in service  # Show must see the host's hostname


def test_activation_file_hands_over_to_systemd() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(REPO / "dbus" / "org.nmstate.service")
    entry = parser["D-BUS Service"]
    assert entry["Name"] == BUS_NAME
    assert entry["SystemdService"] == UNIT.name
    assert entry["User"] == "root"


def rules(policy: ET.Element) -> list[tuple[str, str, dict[str, str]]]:
    """(whom the <policy> is for, allow/deny, the rule's attributes), in file order."""
    found = []
    for section in policy.iter("policy"):
        ((key, value),) = section.attrib.items()
        found += [(f"{key}={value}", rule.tag, dict(rule.attrib)) for rule in section]
    return found


def test_bus_policy_root_owns_everyone_calls_default_deny() -> None:
    policy = ET.parse(REPO / "dbus" / "org.nmstate.conf").getroot()
    found = rules(policy)
    assert ("user=root", "allow", {"own": BUS_NAME}) in found
    assert ("context=default", "deny", {"own": BUS_NAME}) in found
    default = [(tag, attrs) for where, tag, attrs in found if where == "context=default"]
    # default deny for everything sent to us, first; then our interfaces opened
    assert default[1] == ("deny", {"send_destination": BUS_NAME})
    opened = {attrs["send_interface"] for tag, attrs in default[2:] if tag == "allow"}
    assert {"org.nmstate.Manager", "org.nmstate.Job", "org.freedesktop.DBus.Properties"} <= opened
    assert all(attrs.get("send_destination") == BUS_NAME for _, attrs in default[1:])
    assert not any(tag == "allow" and "own" in attrs for tag, attrs in default)


def test_polkit_action_needs_admin_authentication() -> None:
    policy = ET.parse(REPO / "dbus" / "org.nmstate.policy").getroot()
    (action,) = policy.iter("action")
    assert action.get("id") == APPLY_ACTION
    defaults = action.find("defaults")
    assert defaults is not None
    assert {d.tag: d.text for d in defaults} == {
        "allow_any": "auth_admin_keep",
        "allow_inactive": "auth_admin_keep",
        "allow_active": "auth_admin_keep",
    }

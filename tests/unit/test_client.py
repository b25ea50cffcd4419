"""nmstatectl without a daemon: usage, exit codes, error mapping."""

from __future__ import annotations

import pytest

from client import main as ctl


def test_error_kinds_map_to_documented_exit_codes() -> None:
    assert ctl.error_from_dbus("org.nmstate.Error.InvalidArgument", "x").code == 65
    assert ctl.error_from_dbus("org.nmstate.Error.Conflict", "x").code == 69
    assert ctl.error_from_dbus("org.nmstate.Error.QueueFull", "x").code == 69
    assert ctl.error_from_dbus("org.nmstate.Error.PermissionDenied", "x").code == 77
    assert ctl.error_from_dbus("org.nmstate.Error.VerificationFailed", "x").code == 1
    unavailable = ctl.error_from_dbus("org.freedesktop.DBus.Error.ServiceUnknown", "x")
    assert unavailable.code == 69 and "not running" in str(unavailable)


def test_usage_errors_exit_64(capsys: pytest.CaptureFixture[str]) -> None:
    assert ctl.main([]) == 64
    assert ctl.main(["frobnicate"]) == 64
    assert ctl.main(["apply"]) == 64


def test_missing_file_is_one_line_and_exit_66(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    code = ctl.main(["apply", "/nonexistent/state.yml"])
    err = capsys.readouterr().err
    assert code == 66  # the input is read before the bus is touched
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unreachable_bus_is_one_line_and_exit_69(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert ctl.main(["show"]) == 69
    err = capsys.readouterr().err
    assert err.startswith("nmstatectl: error: cannot reach the system bus") and err.count("\n") == 1


def test_applied_names_from_yaml_and_json() -> None:
    assert ctl.applied_names("interfaces:\n- name: eth1\n  type: ethernet\n- name: 'eth2'\n") == [
        "eth1",
        "eth2",
    ]
    assert ctl.applied_names('{"interfaces": [{"name": "eth3"}]}') == ["eth3"]

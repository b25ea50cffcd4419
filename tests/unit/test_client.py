"""nmstatectl without a daemon: usage, exit codes, error mapping, staying light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from client import commands, exits
from client import main as ctl
from client.bus import job_path
from tests.helpers import REPO


def test_error_kinds_map_to_documented_exit_codes() -> None:
    assert exits.error_from_dbus("org.nmstate.Error.InvalidArgument", "x").code == 65
    assert exits.error_from_dbus("org.nmstate.Error.Conflict", "x").code == 69
    assert exits.error_from_dbus("org.nmstate.Error.QueueFull", "x").code == 69
    assert exits.error_from_dbus("org.nmstate.Error.PermissionDenied", "x").code == 77
    assert exits.error_from_dbus("org.nmstate.Error.VerificationFailed", "x").code == 1
    assert exits.error_from_dbus("org.nmstate.Error.Backend", "x").code == 1
    unavailable = exits.error_from_dbus("org.freedesktop.DBus.Error.ServiceUnknown", "x")
    assert unavailable.code == 69 and "not running" in str(unavailable)
    assert exits.error_from_dbus("org.freedesktop.DBus.Error.AccessDenied", "no").code == 77
    # A job that ended badly maps by its error kind, like a failed call.
    assert exits.error_from_job("failed", "Conflict", "checkpoint").code == 69
    assert exits.error_from_job("rolled-back", "Timeout", "late").code == 1


def test_every_exit_code_is_documented() -> None:
    codes = {
        value for name, value in vars(exits).items() if name.isupper() and isinstance(value, int)
    }
    assert codes == set(exits.MEANINGS)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["show", "--frob"],
        ["apply", "--timeout", "0", "x.yml"],
        ["apply", "--timeout", "soon", "x.yml"],
        ["cancel"],
        ["cancel", "job-3"],
        ["commit", "/org/nmstate/job/x"],
    ],
)
def test_usage_errors_exit_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert ctl.main(argv) == 64
    assert "Traceback" not in capsys.readouterr().err


def test_no_commit_takes_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert ctl.main(["apply", "--no-commit", "a.yml", "b.yml"]) == 64
    assert "--no-commit takes one FILE" in capsys.readouterr().err


def test_options_become_apply_options() -> None:
    args = ctl.build_parser().parse_args(
        ["set", "--no-verify", "--no-commit", "--timeout", "7", "--memory-only", "x.yml"]
    )
    options = commands.apply_options(args)
    assert {k: (v.signature, v.value) for k, v in options.items()} == {
        "verify": ("b", False),
        "commit": ("b", False),
        "rollback-timeout": ("u", 7),
        "memory-only": ("b", True),
    }
    assert commands.apply_options(ctl.build_parser().parse_args(["apply", "x.yml"])) == {}


def test_job_arguments_accept_numbers_and_paths() -> None:
    assert job_path("3") == "/org/nmstate/job/3"
    assert job_path("/org/nmstate/job/12") == "/org/nmstate/job/12"
    with pytest.raises(ValueError, match="not a job number"):
        job_path("/org/nmstate/job/")


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


def test_unreachable_bus_names_the_socket(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert ctl.main(["show"]) == 69
    assert capsys.readouterr().err == (
        "nmstatectl: error: cannot reach the system bus at /nonexistent/bus: "
        "No such file or directory\n"
    )


def test_version_without_a_bus_prints_the_clients_then_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert ctl.main(["version"]) == 69
    out, err = capsys.readouterr()
    assert out == f"nmstatectl {commands.client_version()}\n"
    assert err.startswith("nmstatectl: error: nmstated could not be reached: ")
    assert "/nonexistent/bus" in err and err.count("\n") == 1


def test_names_matching_nothing_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["eth1", "lo"]
    assert commands.say_unmatched(["eth1", "e*"], names) == 0
    assert capsys.readouterr().err == ""
    # A missing name fails, like `ip link show NAME`; a glob is a filter: noted only.
    assert commands.say_unmatched(["eth1", "nope0"], names) == 1
    assert capsys.readouterr().err == "nmstatectl: no interface matches nope0\n"
    assert commands.say_unmatched(["nope*", "veth[0-9]"], names) == 0
    assert capsys.readouterr().err == (
        "nmstatectl: no interface matches nope*\nnmstatectl: no interface matches veth[0-9]\n"
    )


def test_the_client_imports_neither_the_daemon_nor_yaml() -> None:
    probe = (
        "import sys, client.main, client.commands, client.bus\n"
        "bad = sorted(m for m in sys.modules if m == 'yaml' or m.split('.')[0] == 'nmstated')\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_version_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert ctl.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("nmstatectl ")

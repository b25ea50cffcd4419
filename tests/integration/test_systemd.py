"""nmstated as systemd runs it: READY, STATUS and watchdog pings; its configuration file."""

from __future__ import annotations

import configparser
import contextlib
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dbus_fast import Variant

from sandbox import Sandbox
from tests.bus import call
from tests.helpers import EXAMPLES, REPO, ipv4_addresses

STATIC = EXAMPLES / "eth1-static.yml"
WAIT = 60.0  # an upper bound for each awaited message, never a pause


@dataclass
class Notifications:
    """nmstated started by the test, with $NOTIFY_SOCKET on a socket the test reads."""

    sock: socket.socket
    proc: subprocess.Popen[bytes]
    seen: list[str] = field(default_factory=list)

    def wait_for(self, wanted: str) -> list[str]:
        """Read messages until one carries the line *wanted*; returns all lines read."""
        lines: list[str] = []
        deadline = time.monotonic() + WAIT
        while wanted not in lines:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.sock], [], [], max(remaining, 0))
            assert ready, f"no {wanted!r} within {WAIT} s; got {lines}"
            lines.extend(self.sock.recv(4096).decode().split("\n"))
        self.seen.extend(lines)
        return lines


@contextlib.contextmanager
def notifying_daemon(
    box: Sandbox, *args: str, watchdog_usec: int, wrapper: tuple[str, ...] = ()
) -> Iterator[Notifications]:
    """Start nmstated (behind *wrapper*, a command that execs its arguments)."""
    path = box.workdir / "test-notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        env = {
            **box.env,
            "NOTIFY_SOCKET": str(path),
            "WATCHDOG_USEC": str(watchdog_usec),
            "PYTHONUNBUFFERED": "1",
        }
        exe = str(Path(sys.executable).with_name("nmstated"))
        run_dir = str(box.workdir / "nmstated-run")
        with box.log_path("nmstated").open("w") as log:
            proc = subprocess.Popen(
                box.ns_cmd(*wrapper, exe, "--run-dir", run_dir, *args),
                env=env,
                stdout=log,
                stderr=log,
            )
        try:
            yield Notifications(sock, proc)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_ready_status_and_watchdog_pings(sandbox: Sandbox) -> None:
    with notifying_daemon(sandbox, watchdog_usec=200_000) as daemon:
        started = daemon.wait_for("READY=1")
        # pings start with the event loop, before the daemon is ready
        assert "WATCHDOG=1" in started
        assert "STATUS=idle" in daemon.wait_for("STATUS=idle")
        # the loop keeps pinging while idle: two more pings
        daemon.wait_for("WATCHDOG=1")
        daemon.wait_for("WATCHDOG=1")

        # STATUS= follows the queue while a job runs
        client = subprocess.Popen(
            [str(Path(sys.executable).with_name("nmstatectl")), "apply", "--dry-run", str(STATIC)],
            env=sandbox.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            during = daemon.wait_for("STATUS=running job 1")
            during += daemon.wait_for("STATUS=idle")
        finally:
            _, err = client.communicate(timeout=WAIT)
        assert client.returncode == 0, err
        assert during.index("STATUS=running job 1") < len(during) - 1

        daemon.proc.send_signal(signal.SIGTERM)
        daemon.wait_for("STOPPING=1")
        assert daemon.proc.wait(timeout=WAIT) == 0
    assert "READY=1" in daemon.seen and daemon.seen.count("WATCHDOG=1") >= 3


def test_no_watchdog_pings_without_watchdog_usec(sandbox: Sandbox) -> None:
    with notifying_daemon(sandbox, watchdog_usec=0) as daemon:
        daemon.wait_for("READY=1")
        daemon.proc.send_signal(signal.SIGTERM)
        daemon.wait_for("STOPPING=1")
        assert daemon.proc.wait(timeout=WAIT) == 0
    assert "WATCHDOG=1" not in daemon.seen


# -- the configuration file -------------------------------------------------------------------


def jobs(box: Sandbox) -> list[str]:
    reply = call(
        box.bus_address,
        "Get",
        "ss",
        ["org.nmstate.Manager", "Jobs"],
        interface="org.freedesktop.DBus.Properties",
    )
    assert reply.error is None, reply
    return list(reply.body[0].value)


def dry_run(box: Sandbox) -> str:
    options = {"dry-run": Variant("b", True)}
    reply = call(box.bus_address, "ApplyAndWait", "sa{sv}", [STATIC.read_text(), options])
    assert reply.error is None, reply
    return str(reply.body[0])


@pytest.fixture
def configured(sandbox: Sandbox) -> Iterator[Sandbox]:
    config = sandbox.workdir / "nmstated.conf"
    config.write_text("[jobs]\nhistory = 1\nrollback-timeout = 7\n\n[logging]\nlevel = debug\n")
    sandbox.start_nmstated("--config", str(config))
    yield sandbox


def test_the_configured_history_and_log_level_are_used(configured: Sandbox) -> None:
    box = configured
    assert dry_run(box) == "/org/nmstate/job/1"
    assert dry_run(box) == "/org/nmstate/job/2"
    assert jobs(box) == ["/org/nmstate/job/2"]  # history = 1
    assert " DEBUG " in box.log_path("nmstated").read_text()


def test_the_configured_rollback_timeout_reaches_networkmanager(configured: Sandbox) -> None:
    box = configured
    options = {"commit": Variant("b", False)}
    # replies once the job awaits commit, inside its checkpoint
    reply = call(box.bus_address, "ApplyAndWait", "sa{sv}", [STATIC.read_text(), options])
    assert reply.error is None, reply
    job = str(reply.body[0])
    try:
        checkpoints = call(
            box.bus_address, "Get", "ss", ["org.freedesktop.NetworkManager", "Checkpoints"],
            path="/org/freedesktop/NetworkManager", interface="org.freedesktop.DBus.Properties",
            destination="org.freedesktop.NetworkManager",
        )  # fmt: skip
        assert checkpoints.error is None, checkpoints
        (checkpoint,) = checkpoints.body[0].value
        timeout = call(
            box.bus_address, "Get", "ss",
            ["org.freedesktop.NetworkManager.Checkpoint", "RollbackTimeout"],
            path=checkpoint, interface="org.freedesktop.DBus.Properties",
            destination="org.freedesktop.NetworkManager",
        )  # fmt: skip
        assert timeout.error is None, timeout
        assert timeout.body[0].value == 7
    finally:
        call(box.bus_address, "Rollback", "o", [job])


def test_a_bad_configuration_is_reported_and_the_defaults_used(sandbox: Sandbox) -> None:
    config = sandbox.workdir / "nmstated.conf"
    config.write_text("[jobs]\nhistory = 1\nqueue-length = many\n")
    sandbox.start_nmstated("--config", str(config))
    log = sandbox.log_path("nmstated").read_text().splitlines()
    problems = [line for line in log if str(config) in line]
    assert problems == [
        f"nmstated: ERROR nmstated.daemon: config {config} line 3: [jobs] queue-length = 'many': "
        "expected a whole number from 1 to 10000; using the built-in defaults"
    ]
    assert dry_run(sandbox) == "/org/nmstate/job/1"
    assert dry_run(sandbox) == "/org/nmstate/job/2"
    assert jobs(sandbox) == ["/org/nmstate/job/1", "/org/nmstate/job/2"]  # not history = 1


# -- the unit's privileges suffice ------------------------------------------------------------

# What of systemd/nmstated.service can be imposed without systemd: its
# capability bounding set, NoNewPrivileges= and MemoryDenyWriteExecute=
# (the kernel's PR_SET_MDWE, inherited across execve, is what systemd's
# seccomp filter emulates).
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
DENY_WRITE_EXECUTE = (
    "import ctypes, os, sys\n"
    "if ctypes.CDLL(None, use_errno=True).prctl("
    f"{PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) != 0:\n"
    "    sys.exit('PR_SET_MDWE: ' + os.strerror(ctypes.get_errno()))\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)
CAPABILITY_BITS = {"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21}


def unit_capabilities() -> list[str]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "systemd" / "nmstated.service")
    names = unit["Service"]["CapabilityBoundingSet"].split()
    assert set(names) <= set(CAPABILITY_BITS), names
    return names


def as_the_unit() -> tuple[str, ...]:
    bounding = ",".join(
        ["-all"] + [f"+{n.removeprefix('CAP_').lower()}" for n in unit_capabilities()]
    )
    return (
        "setpriv",
        f"--bounding-set={bounding}",
        "--inh-caps=-all",
        "--no-new-privs",
        "--",
        sys.executable,
        "-c",
        DENY_WRITE_EXECUTE,
    )


def test_the_daemon_works_with_only_the_units_privileges(sandbox: Sandbox) -> None:
    with notifying_daemon(sandbox, watchdog_usec=0, wrapper=as_the_unit()) as daemon:
        daemon.wait_for("READY=1")
        status = (Path("/proc") / str(daemon.proc.pid) / "status").read_text()
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        assert int(fields["CapBnd"], 16) == sum(
            1 << CAPABILITY_BITS[n] for n in unit_capabilities()
        )
        assert fields["NoNewPrivs"].strip() == "1"
        assert "nmstated" in (Path("/proc") / str(daemon.proc.pid) / "cmdline").read_text()

        shown = call(sandbox.bus_address, "Show", "a{sv}", [{}])
        assert shown.error is None, shown
        applied = call(sandbox.bus_address, "ApplyAndWait", "sa{sv}", [STATIC.read_text(), {}])
        assert applied.error is None, applied
        hostname = "hostname:\n  running: unit-privileges\n"
        renamed = call(sandbox.bus_address, "ApplyAndWait", "sa{sv}", [hostname, {}])
        assert renamed.error is None, renamed
        assert ipv4_addresses(sandbox, "eth1") == {"192.0.2.10/24"}

        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=WAIT) == 0

"""Start and stop a sandboxed NetworkManager (and optionally nmstated).

Layout of one sandbox (all names derive from its id):

* network namespace ``nmsd-ID`` holding the test NICs eth1…ethN, and
  ``nmsd-ID-wire`` holding their veth peers (up), so from inside the first
  namespace the NICs look like plain ethernet ports with carrier;
* a ``dbus-daemon`` of type system listening on a socket in the work dir;
* NetworkManager inside the namespace, under its own UTS namespace, with
  ``/sys`` read-only (so it does not wait for udev) and its run/lib/keyfile
  directories, resolv.conf and hostname redirected into the work dir;
* optionally nmstated, entering NetworkManager's namespaces so both see the
  same links, /etc/resolv.conf and hostname.

Every sandbox is recorded under ``/run/nmstated-sandbox`` before anything is
created, so ``stop_all`` can clean up after a crashed test run.  Processes
are stopped by the pid (and start time) recorded when we started them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD_DIR = Path("/run/nmstated-sandbox")
NETNS_ETC = Path("/etc/netns")
REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
# Sandboxes `python -m sandbox start` made from this checkout (another clone's are its own).
CLI_ORIGIN = f"cli:{REPO}"
_NM_NAME = "org.freedesktop.NetworkManager"
# Where Debian and Fedora put the polkit daemon.
POLKITD_PATHS = (Path("/usr/lib/polkit-1/polkitd"), Path("/usr/libexec/polkitd"))
POLKIT_NAME = "org.freedesktop.PolicyKit1"


class SandboxError(RuntimeError):
    pass


def _run(*cmd: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if check and proc.returncode != 0:
        raise SandboxError(f"{' '.join(cmd)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait for a process to exit, woken by its pidfd; True if it is gone."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return bool(ready)
    finally:
        os.close(fd)


@dataclass
class Sandbox:
    ident: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    nic_count: int = 4
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nmstated-sb-")))
    processes: dict[str, tuple[int, str]] = field(default_factory=dict)
    # CLI_ORIGIN for sandboxes started by `python -m sandbox start` (make sandbox)
    # from this checkout, which `stop` ends; test and demo sandboxes stop themselves.
    origin: str = "code"
    _children: dict[str, subprocess.Popen[Any]] = field(default_factory=dict, repr=False)

    # -- names ---------------------------------------------------------------
    @property
    def netns(self) -> str:
        return f"nmsd-{self.ident}"

    @property
    def wire_netns(self) -> str:
        return f"nmsd-{self.ident}-wire"

    @property
    def nics(self) -> list[str]:
        return [f"eth{i}" for i in range(1, self.nic_count + 1)]

    @property
    def bus_address(self) -> str:
        return f"unix:path={self.workdir / 'system_bus_socket'}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for any process that should talk to the sandbox bus."""
        return {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    @property
    def keyfile_dir(self) -> Path:
        return self.workdir / "system-connections"

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Sandbox:
        if os.geteuid() != 0:
            raise SandboxError("the sandbox needs root (network namespaces, NetworkManager)")
        self._record()
        try:
            self._make_namespaces()
            self._start_bus()
            self._start_networkmanager()
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self._stop_process(name)
        for ns in (self.netns, self.wire_netns):
            _run("ip", "netns", "delete", ns, check=False)
        shutil.rmtree(NETNS_ETC / self.netns, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)
        (RECORD_DIR / f"{self.ident}.json").unlink(missing_ok=True)

    # -- commands inside -------------------------------------------------------
    def ns_cmd(self, *cmd: str) -> list[str]:
        """A command line that runs *cmd* in the namespaces NetworkManager uses."""
        pid, _ = self.processes["NetworkManager"]
        return ["nsenter", "-t", str(pid), "-n", "-u", "-m", "--", *cmd]

    def ip(self, *args: str) -> str:
        return _run("ip", "-n", self.netns, *args).stdout

    def ip_json(self, *args: str) -> Any:
        return json.loads(self.ip("-j", *args) or "[]")

    def nmcli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run("nmcli", *args, check=check, env=self.env)

    def start_nmstated(self, *args: str, command: Sequence[str] = ()) -> int:
        """Start nmstated inside the sandbox; returns once it reported READY=1.

        *command* starts another nmstated than the virtualenv's (an installed
        one); *args* follow it.
        """
        notify_path = self.workdir / "notify.sock"
        notify_path.unlink(missing_ok=True)
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify_path))
            env = {**self.env, "NOTIFY_SOCKET": str(notify_path), "PYTHONUNBUFFERED": "1"}
            exe = list(command) or [str(Path(sys.executable).with_name("nmstated"))]
            cmd = self.ns_cmd(*exe, "--run-dir", str(self.workdir / "nmstated-run"), *args)
            self._spawn("nmstated", cmd, env)
            pid = self.processes["nmstated"][0]
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([sock], [], [], max(remaining, 0))
                if not ready:
                    raise SandboxError(f"nmstated did not become ready: {self._tail('nmstated')}")
                message = sock.recv(4096).decode()
                if "READY=1" in message.split("\n"):
                    return pid

    def stop_nmstated(self, sig: int = signal.SIGTERM) -> None:
        self._stop_process("nmstated", sig)

    def restart_networkmanager(self) -> None:
        """Stop NetworkManager and start it again (as a package upgrade would);
        returns once it manages the NICs again."""
        order = list(self.processes)
        self._stop_process("NetworkManager")
        self._start_networkmanager(until_startup_complete=False)
        self.processes = {name: self.processes[name] for name in order if name in self.processes}
        self._record()

    def start_polkitd(self, rules: str) -> None:
        """Run the real polkitd on the sandbox bus with nmstated's actions and *rules*.

        polkitd reads its actions and rules only from fixed directories, so
        it runs in a mount namespace of its own where those directories are
        replaced by ours: the project's ``org.nmstate.policy`` and one rules
        file with *rules* (JavaScript).  Returns once it owns its bus name.
        """
        polkitd = next((p for p in POLKITD_PATHS if p.exists()), None)
        if polkitd is None:
            raise SandboxError(f"polkitd is not installed (looked for {POLKITD_PATHS})")
        actions, rules_dir, empty = (self.workdir / "polkit" / d for d in ("actions", "rules", "e"))
        for directory in (actions, rules_dir, empty):
            directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dbus" / "org.nmstate.policy", actions)
        (rules_dir / "50-nmstated-test.rules").write_text(rules)
        script = (
            "set -e; "
            f"mount --bind {actions} /usr/share/polkit-1/actions; "
            f"mount --bind {rules_dir} /etc/polkit-1/rules.d; "
            f"mount --bind {empty} /usr/share/polkit-1/rules.d; "
            f"exec {polkitd} --no-debug"
        )
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        self._spawn("polkitd", cmd, self.env)
        wait = ["gdbus", "wait", "--system", "--timeout", str(int(START_TIMEOUT)), POLKIT_NAME]
        if _run(*wait, check=False, env=self.env).returncode != 0:
            raise SandboxError(f"polkitd did not start: {self._tail('polkitd')}")

    # -- internals ---------------------------------------------------------------
    def _record(self) -> None:
        RECORD_DIR.mkdir(parents=True, exist_ok=True)
        record = {
            "ident": self.ident,
            "workdir": str(self.workdir),
            "nic_count": self.nic_count,
            "processes": self.processes,
            "origin": self.origin,
        }
        (RECORD_DIR / f"{self.ident}.json").write_text(json.dumps(record))

    def _make_namespaces(self) -> None:
        etc = NETNS_ETC / self.netns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("# written by NetworkManager in the nmstated sandbox\n")
        (etc / "hostname").write_text("nmstated-sandbox\n")
        _run("ip", "netns", "add", self.netns)
        _run("ip", "netns", "add", self.wire_netns)
        batch = ["link set lo up"]
        for i, nic in enumerate(self.nics, start=1):
            batch.append(f"link add {nic} type veth peer name wire{i} netns {self.wire_netns}")
        _run("ip", "-n", self.netns, "-batch", "-", input="\n".join(batch) + "\n")
        wire = ["link set lo up"] + [f"link set wire{i} up" for i in range(1, self.nic_count + 1)]
        _run("ip", "-n", self.wire_netns, "-batch", "-", input="\n".join(wire) + "\n")

    def _start_bus(self) -> None:
        config = self.workdir / "bus.conf"
        config.write_text(
            _BUS_CONFIG.format(
                socket=self.workdir / "system_bus_socket",
                project_policy=REPO / "dbus" / "org.nmstate.conf",
            )
        )
        # Other users reach the bus socket by its path, as they reach
        # /run/dbus/system_bus_socket; the policy decides what they may do.
        self.workdir.chmod(0o711)
        with self.log_path("dbus").open("w") as log:
            proc = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.processes["dbus"] = (proc.pid, _start_time(proc.pid) or "")
        self._children["dbus"] = proc
        self._record()
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
        if not ready or not proc.stdout.readline():
            raise SandboxError(f"dbus-daemon did not start: {self._tail('dbus')}")
        proc.stdout.close()

    def _start_networkmanager(self, *, until_startup_complete: bool = True) -> None:
        for sub in ("nm-run", "nm-lib", "system-connections", "conf.d"):
            (self.workdir / sub).mkdir(exist_ok=True)
        config = self.workdir / "NetworkManager.conf"
        config.write_text(_NM_CONFIG.format(keyfiles=self.keyfile_dir))
        Path("/run/NetworkManager").mkdir(exist_ok=True)
        Path("/var/lib/NetworkManager").mkdir(parents=True, exist_ok=True)
        w = self.workdir
        script = (
            "set -e; mount -o remount,ro /sys; "
            f"mount --bind {w}/nm-run /run/NetworkManager; "
            f"mount --bind {w}/nm-lib /var/lib/NetworkManager; "
            f"exec NetworkManager --no-daemon --debug --log-level=INFO --config={config} "
            f"--config-dir={w}/conf.d --system-config-dir={w}/conf.d "
            f"--intern-config={w}/nm-lib/intern.conf --state-file={w}/nm-lib/state "
            f"--pid-file={w}/nm-run/pid"
        )
        cmd = ["ip", "netns", "exec", self.netns, "unshare", "--uts", "sh", "-c", script]
        self._spawn("NetworkManager", cmd, self.env)
        # nm-online -s returns when NetworkManager finished starting (its
        # Startup property turned false): an event, not a guess.  A restart
        # may resume an activation that takes long (DHCP with no server):
        # then it is enough that NetworkManager is back on the bus.
        if until_startup_complete:
            wait = ["nm-online", "-s", "-q", "-t", str(int(START_TIMEOUT))]
        else:
            wait = ["gdbus", "wait", "--system", "--timeout", str(int(START_TIMEOUT)), _NM_NAME]
        proc = _run(*wait, check=False, env=self.env)
        if proc.returncode != 0:
            raise SandboxError(f"NetworkManager did not start: {self._tail('NetworkManager')}")
        self._wait_devices_managed()
        # /sys had to be read-only while NetworkManager started (else it waits
        # for udev); it decides that once.  Writable again, it can set the
        # bridge-port and other options it writes through sysfs.
        pid = self.processes["NetworkManager"][0]
        _run("nsenter", "-t", str(pid), "-m", "-n", "mount", "-o", "remount,rw", "/sys")

    def _wait_devices_managed(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        wanted = set(self.nics)
        # Bounded re-check: NM reports devices right after startup completes;
        # this loop only covers the rare case where the last NIC is still
        # being probed, and each round is a blocking nmcli call, not a sleep.
        while time.monotonic() < deadline:
            out = self.nmcli("-t", "-f", "DEVICE,STATE", "device").stdout
            managed = {
                line.split(":")[0]
                for line in out.splitlines()
                if not line.endswith(":unmanaged") and not line.endswith(":unavailable")
            }
            if wanted <= managed:
                return
            _run("nmcli", "--wait", "1", "general", "status", check=False, env=self.env)
        raise SandboxError(f"NetworkManager does not manage {sorted(wanted)}")

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        log = self.log_path(name).open("w")
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.close()
        self.processes[name] = (proc.pid, _start_time(proc.pid) or "")
        self._children[name] = proc
        self._record()

    def _stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        entry = self.processes.pop(name, None)
        child = self._children.pop(name, None)
        if entry is None:
            return
        pid, started = entry
        if _start_time(pid) == started:  # else gone, or the pid is someone else's now
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if not _wait_exit(pid, 10.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _wait_exit(pid, 5.0)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
            if child.stdout is not None:
                child.stdout.close()
        self._record()

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    @classmethod
    def from_record(cls, path: Path) -> Sandbox:
        data = json.loads(path.read_text())
        return cls(
            ident=data["ident"],
            nic_count=data["nic_count"],
            workdir=Path(data["workdir"]),
            processes={k: (int(v[0]), str(v[1])) for k, v in data["processes"].items()},
            origin=data.get("origin", "code"),
        )


def recorded() -> list[Sandbox]:
    if not RECORD_DIR.is_dir():
        return []
    return [Sandbox.from_record(p) for p in sorted(RECORD_DIR.glob("*.json"))]


def stop_all(origin: str | None = None, names: Iterable[str] | None = None) -> int:
    """Stop the recorded sandboxes of one origin (or all), or just those *names*
    (their namespaces); returns how many.  A name that is not recorded, or is
    of another origin, stops nothing."""
    boxes = [box for box in recorded() if origin is None or box.origin == origin]
    if names is not None:
        wanted = set(names)
        every = {box.netns: box for box in recorded()}
        for name in sorted(wanted):
            if name not in every:
                raise SandboxError(f"no sandbox named {name} (see `python -m sandbox status`)")
            if origin is not None and every[name].origin != origin:
                raise SandboxError(
                    f"{name} was not started with `python -m sandbox start` from this "
                    "checkout (a test run's, or another clone's?); add --all to stop it anyway"
                )
        boxes = [box for box in boxes if box.netns in wanted]
    for box in boxes:
        box.stop()
    return len(boxes)


_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- As on a distribution's system bus: anyone may connect; owning names and
       calling methods are denied unless a service's policy allows them. -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <!-- root runs everything in the sandbox (NetworkManager, polkitd, the tests)
       and may do anything, in place of each service's own policy file. -->
  <policy user="root">
    <allow own="*"/>
    <allow send_type="method_call"/>
  </policy>
  <!-- The policy nmstated ships, so tests exercise it; and polkit's own (its
       daemon drops to its own user, which must be allowed to own its name). -->
  <include>{project_policy}</include>
  <include ignore_missing="yes">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
</busconfig>
"""

_NM_CONFIG = """[main]
plugins=keyfile
auth-polkit=false
no-auto-default=*
rc-manager=file
hostname-mode=none
dhcp=internal

[keyfile]
path={keyfiles}
# Links a test makes by hand and NetworkManager must not touch (docs/sandbox.md).
unmanaged-devices=interface-name:hm-*

[logging]
level=INFO
"""

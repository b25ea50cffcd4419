"""`make install` and `make uninstall`: the installed tree, its unit and activation file, the
installed nmstated and nmstatectl at work against a real NetworkManager, and D-Bus activation of
the installed daemon by Debian's own system bus configuration.

The module installs once (`make install DESTDIR=…`, which builds the service's virtualenv with
pip: about 10 to 15 s; the whole module takes about 40 s). Installed files name their final
paths (/usr/local/…), which exist only under DESTDIR, so the installed programs run in a private
mount namespace where DESTDIR's /usr/local is bind-mounted over /usr/local: every path resolves
as after a real install, and nothing of the host changes.
"""

from __future__ import annotations

import configparser
import json
import os
import select
import shutil
import signal
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox import Sandbox
from tests.helpers import EXAMPLES, REPO, ipv4_addresses, require_root

PREFIX = "/usr/local"  # the Makefile's default
DAEMON = f"{PREFIX}/sbin/nmstated"
CLIENT = f"{PREFIX}/bin/nmstatectl"
PKGLIBDIR = f"{PREFIX}/lib/nmstated"
MANIFEST = f"{PKGLIBDIR}/install-manifest"
UNIT = f"{PREFIX}/lib/systemd/system/nmstated.service"
ACTIVATION = f"{PREFIX}/share/dbus-1/system-services/org.nmstate.service"
# every installed file outside the virtualenv: final path → the file of the checkout it copies
COPIES = {
    "/usr/share/dbus-1/system.d/org.nmstate.conf": "dbus/org.nmstate.conf",
    "/usr/share/polkit-1/actions/org.nmstate.policy": "dbus/org.nmstate.policy",
    **{
        f"{PREFIX}/share/dbus-1/interfaces/org.nmstate.{name}.xml": f"dbus/org.nmstate.{name}.xml"
        for name in ("Manager", "Job", "Interface")
    },
    f"{PREFIX}/share/man/man1/nmstatectl.1": "docs/nmstatectl.1",
    f"{PREFIX}/share/bash-completion/completions/nmstatectl": "docs/nmstatectl.bash-completion",
}
TEMPLATED = {
    UNIT: ("systemd/nmstated.service", "ExecStart"),
    ACTIVATION: ("dbus/org.nmstate.service", "Exec"),
}
LINKS = {DAEMON: f"{PKGLIBDIR}/bin/nmstated", CLIENT: f"{PKGLIBDIR}/bin/nmstatectl"}
TIMEOUT = 600  # an upper bound for one make run (pip fetches from PyPI), never a pause


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def make_variable(name: str, *args: str) -> str:
    """The value the Makefile gives *name* (with *args* on the command line)."""
    result = make("--eval", "print-%: ; @echo $($*)", f"print-{name}", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def tree(root: Path) -> tuple[set[str], set[str]]:
    """(files and symlinks, directories) under *root*, as final paths."""
    files: set[str] = set()
    dirs: set[str] = set()
    for path in root.rglob("*"):
        final = "/" + str(path.relative_to(root))
        (dirs if path.is_dir() and not path.is_symlink() else files).add(final)
    return files, dirs


def read_manifest(root: Path) -> tuple[set[str], set[str]]:
    entries = [line.split(" ", 1) for line in (root / MANIFEST[1:]).read_text().splitlines()]
    assert {kind for kind, _ in entries} == {"f", "d"}
    return {p for k, p in entries if k == "f"}, {p for k, p in entries if k == "d"}


def ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


@dataclass(frozen=True)
class Installed:
    destdir: Path

    def path(self, final: str) -> Path:
        return self.destdir / final.lstrip("/")

    def command(self, *cmd: str, hide: Path | None = None) -> list[str]:
        """*cmd* run with this tree's /usr/local in place of the host's (and, with *hide*,
        that empty directory over its sbin)."""
        script, args = 'mount --bind "$0" /usr/local && exec "$@"', [str(self.path(PREFIX))]
        if hide is not None:
            script = 'mount --bind "$0" /usr/local && mount --bind "$1" /usr/local/sbin && shift'
            script, args = script + ' && exec "$@"', [*args, str(hide)]
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, *args, *cmd]

    def run(
        self, *cmd: str, env: dict[str, str] | None = None, hide: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*cmd, hide=hide),
            env=env or _clean_env(),
            cwd=self.destdir,  # not the checkout: nothing of it may be imported
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    require_root()
    destdir = tmp_path_factory.mktemp("install") / "root"
    result = make("install", f"DESTDIR={destdir}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"installed nmstated into {destdir}" in result.stdout
    try:
        yield Installed(destdir)
    finally:
        shutil.rmtree(destdir.parent)


# -- the tree -------------------------------------------------------------------------------------


def test_each_file_lands_where_debian_reads_it(installed: Installed) -> None:
    files, _ = tree(installed.destdir)
    outside_venv = {f for f in files if not f.startswith(PKGLIBDIR + "/")}
    assert outside_venv == set(COPIES) | set(TEMPLATED) | set(LINKS)
    for final, source in COPIES.items():
        assert installed.path(final).read_bytes() == (REPO / source).read_bytes(), final
        assert installed.path(final).stat().st_mode & 0o777 == 0o644, final
    # the two programs: relative links into the virtualenv, so they resolve under DESTDIR too
    for final, target in LINKS.items():
        link = installed.path(final)
        assert link.is_symlink() and not os.readlink(link).startswith("/"), final
        assert link.resolve() == installed.path(target).resolve()
        assert os.access(link, os.X_OK), final


def test_systemd_reads_units_from_the_unit_directory() -> None:
    unit_path = subprocess.run(
        ["pkg-config", "--variable=systemd_system_unit_path", "systemd"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not unit_path:
        pytest.skip(
            "pkg-config cannot tell systemd's unit path (Debian packages: systemd, pkg-config)"
        )
    assert make_variable("UNITDIR") == f"{PREFIX}/lib/systemd/system"
    assert f"{PREFIX}/lib/systemd/system" in unit_path.split(":")


def test_prefix_usr_installs_where_debian_packages_do() -> None:
    unit_dir = subprocess.run(
        ["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert make_variable("UNITDIR", "PREFIX=/usr") == (unit_dir or "/usr/lib/systemd/system")
    assert make_variable("SBINDIR", "PREFIX=/usr") == "/usr/sbin"
    assert make_variable("BINDIR", "PREFIX=/usr") == "/usr/bin"
    assert make_variable("DBUS_SERVICEDIR", "PREFIX=/usr") == "/usr/share/dbus-1/system-services"
    # the bus policy and the polkit action are read from /usr/share only, whatever PREFIX is
    for prefix in ("/usr", PREFIX):
        assert make_variable("DBUS_POLICYDIR", f"PREFIX={prefix}") == "/usr/share/dbus-1/system.d"
        assert (
            make_variable("POLKIT_ACTIONDIR", f"PREFIX={prefix}") == "/usr/share/polkit-1/actions"
        )


def test_the_manifest_lists_exactly_the_installed_tree(installed: Installed) -> None:
    # the destination was empty: every file and directory in it is the install's
    assert read_manifest(installed.destdir) == tree(installed.destdir)


def test_no_installed_file_names_the_staging_directory(installed: Installed) -> None:
    # script shebangs, activate, pyvenv.cfg and the bytecode's file names are the final ones
    staging = str(installed.destdir).encode()
    files, _ = tree(installed.destdir)
    mentions = [
        f
        for f in files
        if not installed.path(f).is_symlink() and staging in installed.path(f).read_bytes()
    ]
    assert mentions == []
    shebang = installed.path(f"{PKGLIBDIR}/bin/nmstated").read_text().splitlines()[0]
    assert shebang == f"#!{PKGLIBDIR}/bin/python3"


# -- the unit and the activation file -------------------------------------------------------------


def test_unit_and_activation_file_start_the_installed_daemon(installed: Installed) -> None:
    assert ini(installed.path(UNIT))["Service"]["ExecStart"] == DAEMON
    activation = ini(installed.path(ACTIVATION))["D-BUS Service"]
    assert activation["Exec"] == DAEMON
    assert activation["SystemdService"] == "nmstated.service"
    # only that one line differs from the checkout's file
    for final, (source, key) in TEMPLATED.items():
        ours = installed.path(final).read_text().splitlines()
        theirs = (REPO / source).read_text().splitlines()
        changed = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
        assert [a for a, _ in changed] == [f"{key}={DAEMON}"], final


def test_the_installed_unit_passes_systemd_analyze_verify(installed: Installed) -> None:
    """Verified by name, as systemd finds it in its unit path, with its ExecStart and its man
    page (Documentation=man:nmstatectl(1)) at their installed paths.

    `systemd-analyze verify --root=DESTDIR` (systemd 252 has it) would need the whole unit graph
    in DESTDIR: the unit's default dependencies (sysinit.target, …) fail to load there.
    """
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    result = installed.run("systemd-analyze", "verify", "nmstated.service")
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_verify_fails_without_the_installed_daemon(installed: Installed, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    result = installed.run("systemd-analyze", "verify", "nmstated.service", hide=tmp_path)
    assert result.returncode != 0
    assert DAEMON in result.stderr


# -- the installed programs -----------------------------------------------------------------------


def test_the_installed_programs_run_from_their_virtualenv(installed: Installed) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    client = installed.run(CLIENT, "--version")
    assert (client.returncode, client.stdout.strip()) == (0, f"nmstatectl {version}"), client.stderr
    daemon = installed.run(DAEMON, "--help")
    assert daemon.returncode == 0, daemon.stderr
    assert daemon.stdout.startswith("usage: nmstated")
    where = installed.run(
        f"{PKGLIBDIR}/bin/python3",
        "-c",
        "import sys, client, nmstated; print(sys.base_prefix, nmstated.__file__, client.__file__)",
    )
    base, *modules = where.stdout.split()
    assert base == "/usr"  # Debian's interpreter, not one under /root or /home (ProtectHome=yes)
    assert all(m.startswith(f"{PKGLIBDIR}/lib/python3") for m in modules), modules


def test_the_installed_daemon_serves_the_installed_client(
    installed: Installed, sandbox: Sandbox
) -> None:
    pid = sandbox.start_nmstated(command=installed.command(DAEMON))
    # the kernel ran the installed launcher with its virtualenv's interpreter
    argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    assert argv[:2] == [f"{PKGLIBDIR}/bin/python3", DAEMON]

    shown = installed.run(CLIENT, "show", "--json", "eth1", env=sandbox.env)
    assert shown.returncode == 0, shown.stderr
    (eth1,) = json.loads(shown.stdout)["interfaces"]
    assert (eth1["name"], eth1["type"]) == ("eth1", "ethernet")

    applied = installed.run(CLIENT, "apply", str(EXAMPLES / "eth1-static.yml"), env=sandbox.env)
    assert applied.returncode == 0, applied.stderr
    assert ipv4_addresses(sandbox, "eth1") == {"192.0.2.10/24"}


# The system bus as Debian runs it: dbus-daemon with Debian's own /usr/share/dbus-1/system.conf
# (its service directories, its includedir for bus policies, its setuid launch helper), with
# this tree's /usr/local and bus policy bound in place, a private /run (the bus's socket,
# nmstated's run directory), in network and UTS namespaces of its own (nmstated sees only
# lo).  Prints the bus's pid, then the installed client's Show, then the pid of the nmstated
# the bus started.
SYSTEM_BUS_ACTIVATION = """set -e
mount --bind "$0/usr/local" /usr/local
mount --bind "$0/usr/share/dbus-1/system.d" /usr/share/dbus-1/system.d
mount -t tmpfs nmstated-test-run /run
mkdir /run/dbus
dbus-daemon --system --fork --nopidfile --print-pid=1
/usr/local/bin/nmstatectl show --json lo | tr -d '\\n'
echo
busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s org.nmstate
"""


def stop(pid: int, program: str) -> None:
    """SIGTERM *pid* if it still runs *program*; returns once it is gone."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if program.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            signal.pidfd_send_signal(fd, signal.SIGTERM)
            ready, _, _ = select.select([fd], [], [], 30)
            assert ready, f"{program} (pid {pid}) did not stop"
    finally:
        os.close(fd)


def test_the_system_bus_activates_the_installed_daemon(
    installed: Installed, tmp_path: Path
) -> None:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (Debian package: dbus)")
    unshare = ["unshare", "--mount", "--propagation", "private", "--net", "--uts"]
    script = ["sh", "-c", SYSTEM_BUS_ACTIVATION, str(installed.destdir), str(tmp_path)]
    result = subprocess.run(
        [*unshare, *script], capture_output=True, text=True, timeout=120, check=False
    )
    lines = result.stdout.splitlines()
    bus = int(lines[0]) if lines else None
    daemon = int(lines[2].split()[1]) if len(lines) > 2 else None
    try:
        assert result.returncode == 0, result.stderr
        (lo,) = json.loads(lines[1])["interfaces"]
        assert lo["name"] == "lo"
        assert daemon is not None
        argv = Path(f"/proc/{daemon}/cmdline").read_text().split("\0")
        assert argv[:3] == [f"{PKGLIBDIR}/bin/python3", DAEMON, ""]  # Exec=, no arguments
    finally:
        if daemon is not None:
            stop(daemon, DAEMON)
        if bus is not None:
            stop(bus, "dbus-daemon")


# -- uninstall, reinstall, failures ----------------------------------------------------------------


def copy_of(installed: Installed, tmp_path: Path) -> Path:
    """The installed tree under another DESTDIR (its manifest names final paths)."""
    destdir = tmp_path / "root"
    shutil.copytree(installed.destdir, destdir, symlinks=True)
    return destdir


def test_uninstall_removes_everything_install_put_there(
    installed: Installed, tmp_path: Path
) -> None:
    destdir = copy_of(installed, tmp_path)
    result = make("uninstall", f"DESTDIR={destdir}")
    assert result.returncode == 0, result.stderr
    assert list(destdir.iterdir()) == []
    again = make("uninstall", f"DESTDIR={destdir}")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("nothing to uninstall")


def test_uninstall_keeps_what_it_did_not_install(installed: Installed, tmp_path: Path) -> None:
    destdir = copy_of(installed, tmp_path)
    foreign = destdir / "usr/local/share/man/man1/other.1"
    foreign.write_text(".TH OTHER 1\n")
    result = make("uninstall", f"DESTDIR={destdir}")
    assert result.returncode == 0, result.stderr
    assert tree(destdir)[0] == {"/usr/local/share/man/man1/other.1"}
    assert f"kept {foreign.parent}" in result.stdout


def test_install_over_an_install_replaces_it(installed: Installed, tmp_path: Path) -> None:
    destdir = copy_of(installed, tmp_path)
    stale = destdir / PKGLIBDIR.lstrip("/") / "lib/stale.py"
    stale.write_text("")
    with (destdir / MANIFEST.lstrip("/")).open("a") as manifest:
        manifest.write(f"f {PKGLIBDIR}/lib/stale.py\n")
    result = make("install", f"DESTDIR={destdir}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("removing the previous install first")
    assert not stale.exists()
    assert read_manifest(destdir) == tree(destdir) == tree(installed.destdir)


def test_a_failed_install_leaves_nothing_behind(tmp_path: Path) -> None:
    destdir = tmp_path / "root"
    # pip finds nothing to install from: the build fails after the virtualenv was made
    env = {**_clean_env(), "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(tmp_path)}
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO), "install", f"DESTDIR={destdir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "make install failed: removing what it installed" in result.stderr
    assert list(destdir.iterdir()) == []


def test_install_refuses_to_overwrite_a_file_it_did_not_install(tmp_path: Path) -> None:
    destdir = tmp_path / "root"
    packaged = destdir / "usr/share/polkit-1/actions/org.nmstate.policy"
    packaged.parent.mkdir(parents=True)
    packaged.write_text("a package's\n")
    result = make("install", f"DESTDIR={destdir}")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"make install: {packaged} exists and was not installed by make install "
        "(a package's?); remove it first"
    )
    assert tree(destdir)[0] == {"/usr/share/polkit-1/actions/org.nmstate.policy"}
    assert packaged.read_text() == "a package's\n"


def test_install_rejects_a_relative_prefix(tmp_path: Path) -> None:
    result = make("install", f"DESTDIR={tmp_path}", "PREFIX=usr/local")
    assert result.returncode != 0
    assert (
        result.stderr.splitlines()[0] == "make install: PREFIX='usr/local' must be an absolute path"
    )
    assert list(tmp_path.iterdir()) == []

"""The sandbox leaves nothing behind: namespaces, buses, processes, files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.core import NETNS_ETC, RECORD_DIR, recorded
from tests.helpers import REPO, VENV_BIN, require_root


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that is not ours to reap it has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_gone(box: Sandbox, pids: list[int]) -> None:
    assert not {box.netns, box.wire_netns} & netns_names()
    assert not any(alive(pid) for pid in pids)
    assert not (NETNS_ETC / box.netns).exists()
    assert not box.workdir.exists()
    assert not (RECORD_DIR / f"{box.ident}.json").exists()


def test_stop_removes_everything() -> None:
    require_root()
    box = Sandbox().start()
    box.start_nmstated()
    pids = [pid for pid, _ in box.processes.values()]
    assert len(pids) == 3 and all(alive(pid) for pid in pids)
    assert {box.netns, box.wire_netns} <= netns_names()
    assert set(box.nics) <= {link["ifname"] for link in box.ip_json("link")}
    box.stop()
    assert_gone(box, pids)


def test_cleanup_happens_when_the_body_fails() -> None:
    require_root()
    with pytest.raises(RuntimeError), Sandbox() as box:
        pids = [pid for pid, _ in box.processes.values()]
        raise RuntimeError("a failing test")
    assert_gone(box, pids)


def test_make_sandbox_and_sandbox_stop_from_other_processes() -> None:
    """`python -m sandbox start` returns leaving the sandbox running; `stop` ends it."""
    require_root()
    started = subprocess.run(
        [sys.executable, "-m", "sandbox", "start"], cwd=REPO, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    ident = re.search(r"sandbox nmsd-(\w+) is running", started.stdout)
    assert ident is not None, started.stdout
    (box,) = [b for b in recorded() if b.ident == ident.group(1)]
    pids = [pid for pid, _ in box.processes.values()]
    assert len(pids) == 3 and all(alive(pid) for pid in pids)
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": box.bus_address}
    shown = subprocess.run(
        [str(VENV_BIN / "nmstatectl"), "show", "eth1"], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0 and "name: eth1" in shown.stdout, shown.stderr

    # By name: a developer's own `make sandbox` may be running beside the tests.
    stopped = subprocess.run(
        [sys.executable, "-m", "sandbox", "stop", box.netns],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == "stopped 1 sandbox(es)"
    assert_gone(box, pids)


def test_sandbox_stop_leaves_other_sandboxes_alone(sandbox: Sandbox) -> None:
    """`make sandbox-stop` must not pull a test's sandbox from under it: named, it
    refuses in one line (a bare `stop` would also end a developer's own sandbox
    running beside the tests, so the test does not run it)."""
    for name in (sandbox.netns, "nmsd-nosuchbox"):
        stopped = subprocess.run(
            [sys.executable, "-m", "sandbox", "stop", name],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert stopped.returncode == 1
        assert stopped.stderr.count("\n") == 1 and name in stopped.stderr, stopped.stderr
    assert all(alive(pid) for pid, _ in sandbox.processes.values())
    assert {sandbox.netns, sandbox.wire_netns} <= netns_names()


def test_a_reused_pid_is_never_killed() -> None:
    require_root()
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        box = Sandbox()
        box.processes["impostor"] = (bystander.pid, "not-its-start-time")
        box.stop()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_leaves_another_clones_sandbox_alone() -> None:
    """`make sandbox-stop` in one clone must not end the sandbox of another clone."""
    require_root()
    other = Sandbox(origin="cli:/elsewhere/another-clone").start()
    try:
        stopped = subprocess.run(
            [sys.executable, "-m", "sandbox", "stop", other.netns],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert stopped.returncode == 1
        assert "another clone" in stopped.stderr, stopped.stderr
        assert all(alive(pid) for pid, _ in other.processes.values())
    finally:
        other.stop()

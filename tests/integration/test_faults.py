"""Faults mid-job, for real: the daemon killed or stopped, NetworkManager restarted,
a client vanishing."""

from __future__ import annotations

import json
import signal
import subprocess

from dbus_fast import Variant

from sandbox import Sandbox
from tests.bus import call
from tests.events import SignalRecorder, finished_jobs, nm_checkpoints, wait_job_state, wait_kernel
from tests.helpers import Ctl, profiles
from tests.jobs import (
    NEW,
    OLD,
    applied_old_state,
    eth1_state,
    has_only,
    job_props,
    mid_job,
    stalling_state,
)

DEADLINE = 10


def record_file(box: Sandbox) -> str:
    return str(box.workdir / "nmstated-run" / "checkpoint.json")


def start_stalling_job(box: Sandbox, timeout: int) -> str:
    options = {"rollback-timeout": Variant("u", timeout)}
    reply = call(box.bus_address, "Apply", "sa{sv}", [stalling_state(box), options])
    assert reply.error is None, reply
    job = str(reply.body[0])
    mid_job(box, job)
    return job


def old_state_is_back(box: Sandbox) -> bool:
    return (
        has_only(box, OLD)
        and nm_checkpoints(box.bus_address) == []
        and "eth2" not in profiles(box).values()
    )


def test_killed_daemon_networkmanager_restores_by_the_deadline_and_restart_says_so(
    nmstatectl: Ctl,
) -> None:
    box = applied_old_state(nmstatectl)
    start_stalling_job(box, DEADLINE)
    with open(record_file(box)) as handle:
        record = json.load(handle)
    assert record["path"] in nm_checkpoints(box.bus_address)

    box.stop_nmstated(signal.SIGKILL)

    # NetworkManager alone restores everything when the deadline passes; the
    # bound is the deadline plus NetworkManager's whole-second rounding.
    assert wait_kernel(box, lambda: old_state_is_back(box), timeout=DEADLINE + 5)

    box.start_nmstated()
    log = box.log_path("nmstated").read_text()
    assert f"checkpoint {record['path']} left by a previous nmstated" in log
    assert "already rolled it back" in log
    shown = nmstatectl("show", "eth1")
    assert shown.returncode == 0 and f"ip: {OLD}" in shown.stdout
    assert not (box.workdir / "nmstated-run" / "checkpoint.json").exists()


def test_killed_daemon_restarted_at_once_rolls_its_checkpoint_back(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    start_stalling_job(box, 600)  # NetworkManager's deadline is far away: the restart acts
    box.stop_nmstated(signal.SIGKILL)
    assert has_only(box, NEW) and len(nm_checkpoints(box.bus_address)) == 1

    box.start_nmstated()

    assert "was still pending: rolled it back" in box.log_path("nmstated").read_text()
    assert nm_checkpoints(box.bus_address) == []
    assert wait_kernel(box, lambda: old_state_is_back(box))
    assert nmstatectl("apply", "-", stdin=eth1_state(NEW)).returncode == 0


def test_networkmanager_restart_fails_the_job_with_backend_and_the_next_apply_works(
    nmstatectl: Ctl,
) -> None:
    box = applied_old_state(nmstatectl)
    job = start_stalling_job(box, 120)

    box.restart_networkmanager()

    final = wait_job_state(box.bus_address, job)
    assert final["State"] == "failed"
    kind, message = final["Error"]
    assert kind == "Backend" and "NetworkManager" in message, message
    result = nmstatectl("apply", "-", stdin=eth1_state("192.0.2.55"))
    assert result.returncode == 0, result.stderr
    assert has_only(box, "192.0.2.55")


def test_sigterm_rolls_back_the_active_job_and_cancels_the_queued_one(daemon: Sandbox) -> None:
    box = daemon
    address = box.bus_address
    assert call(address, "ApplyAndWait", "sa{sv}", [eth1_state(OLD), {}]).error is None
    pending = call(
        address, "ApplyAndWait", "sa{sv}", [eth1_state(NEW), {"commit": Variant("b", False)}]
    )
    queued = call(address, "Apply", "sa{sv}", [eth1_state("192.0.2.99"), {}])
    assert has_only(box, NEW)

    with SignalRecorder(address) as recorder:
        box.stop_nmstated(signal.SIGTERM)
        records = recorder.wait(lambda r: len(finished_jobs(r)) == 2)

    assert finished_jobs(records) == {pending.body[0]: "cancelled", queued.body[0]: "cancelled"}
    assert has_only(box, OLD)
    assert nm_checkpoints(address) == []
    log = box.log_path("nmstated").read_text()
    assert "rolling it back, nmstated is stopping" in log and "Traceback" not in log
    assert not (box.workdir / "nmstated-run" / "checkpoint.json").exists()


def test_a_client_vanishing_mid_job_leaves_the_job_running_and_readable(
    nmstatectl: Ctl,
) -> None:
    box = applied_old_state(nmstatectl)
    holding = nmstatectl("apply", "--no-commit", "-", stdin=eth1_state(NEW))
    assert holding.returncode == 0, holding.stderr
    with SignalRecorder(box.bus_address) as recorder:
        client = subprocess.Popen(
            [
                "busctl",
                f"--address={box.bus_address}",
                "call",
                "org.nmstate",
                "/org/nmstate",
                "org.nmstate.Manager",
                "ApplyAndWait",
                "sa{sv}",
                eth1_state("192.0.2.99"),
                "0",
            ],
            stdout=subprocess.DEVNULL,
        )
        # The client's job is queued behind the one awaiting commit.
        recorder.wait(lambda r: any(v.get("QueueLength") == 1 for _, _, v in r))
        client.kill()
        client.wait()

        assert nmstatectl("commit").returncode == 0
        records = recorder.wait(lambda r: len(finished_jobs(r)) == 2)

    job = max(finished_jobs(records), key=lambda path: int(path.rsplit("/", 1)[-1]))
    props = job_props(box, job)
    assert props["State"] == "succeeded" and props["Sender"].startswith(":")
    assert has_only(box, "192.0.2.99")

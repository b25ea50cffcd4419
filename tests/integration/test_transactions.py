"""Transactions against the real NetworkManager: commit=false, commit, rollback,
the rollback deadline, foreign checkpoints, and cancelling."""

from __future__ import annotations

import subprocess
import time

from dbus_fast import Variant

from sandbox import Sandbox
from tests.bus import call
from tests.events import nm_checkpoints, wait_job_state
from tests.helpers import Ctl, profiles
from tests.jobs import (
    NEW,
    OLD,
    applied_old_state,
    eth1_state,
    has_only,
    job_props,
    latest_job,
    mid_job,
    stalling_state,
)


def test_no_commit_then_rollback_restores_the_old_state(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)

    result = nmstatectl("apply", "--no-commit", "-", stdin=eth1_state(NEW))

    assert result.returncode == 0, result.stderr
    assert "awaits commit" in result.stderr
    assert has_only(box, NEW)
    job = latest_job(box)
    props = job_props(box, job)
    assert props["State"] == "awaiting-commit"
    deadline = int(props["RollbackDeadline"]) / 1e6
    assert time.time() < deadline <= time.time() + 61
    assert len(nm_checkpoints(box.bus_address)) == 1

    rolled = nmstatectl("rollback")

    assert rolled.returncode == 0, rolled.stderr
    assert has_only(box, OLD)
    assert job_props(box, job)["State"] == "rolled-back"
    assert job_props(box, job)["RollbackDeadline"] == 0
    assert nm_checkpoints(box.bus_address) == []


def test_no_commit_and_no_decision_rolls_back_at_the_deadline(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)

    result = nmstatectl("apply", "--no-commit", "--timeout", "5", "-", stdin=eth1_state(NEW))

    assert result.returncode == 0, result.stderr
    assert has_only(box, NEW)
    job = latest_job(box)
    final = wait_job_state(box.bus_address, job)
    assert final["State"] == "rolled-back"
    kind, message = final["Error"]
    assert kind == "Timeout" and "not committed within 5 s" in message, message
    assert has_only(box, OLD)
    assert nm_checkpoints(box.bus_address) == []
    # The daemon takes the next job at once.
    assert nmstatectl("apply", "-", stdin=eth1_state(NEW)).returncode == 0


def test_no_commit_then_commit_keeps_the_change(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    result = nmstatectl("apply", "--no-commit", "--timeout", "30", "-", stdin=eth1_state(NEW))
    assert result.returncode == 0, result.stderr
    job = latest_job(box)

    committed = nmstatectl("commit", job.rsplit("/", 1)[-1])

    assert committed.returncode == 0, committed.stderr
    assert job_props(box, job)["State"] == "succeeded"
    assert nm_checkpoints(box.bus_address) == []
    assert has_only(box, NEW)
    # Committed means kept: a second commit has nothing to do.
    again = nmstatectl("commit")
    assert again.returncode == 69 and "no job is awaiting commit" in again.stderr


def test_commit_and_rollback_over_the_bus_on_the_job_object(daemon: Sandbox) -> None:
    address = daemon.bus_address
    options = {"commit": Variant("b", False)}
    reply = call(address, "ApplyAndWait", "sa{sv}", [eth1_state(NEW), options])
    assert reply.error is None, reply
    (job,) = reply.body
    assert job_props(daemon, job)["State"] == "awaiting-commit"

    assert call(address, "Commit", path=job, interface="org.nmstate.Job").error is None
    assert job_props(daemon, job)["State"] == "succeeded"
    refused = call(address, "Rollback", path=job, interface="org.nmstate.Job")
    assert refused.error == "org.nmstate.Error.Conflict"
    assert "not awaiting commit" in refused.message


def test_foreign_checkpoint_is_a_conflict_and_left_alone(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    created = subprocess.run(
        [
            "busctl",
            f"--address={box.bus_address}",
            "call",
            "org.freedesktop.NetworkManager",
            "/org/freedesktop/NetworkManager",
            "org.freedesktop.NetworkManager",
            "CheckpointCreate",
            "aouu",
            "0",
            "300",
            "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    foreign = created.stdout.split('"')[1]

    result = nmstatectl("apply", "-", stdin=eth1_state(NEW))

    assert result.returncode == 69, result.stderr
    assert result.stderr.count("\n") == 1 and foreign in result.stderr
    assert "Conflict" not in result.stdout and "Traceback" not in result.stderr
    assert has_only(box, OLD)
    assert nm_checkpoints(box.bus_address) == [foreign]
    props = job_props(box, latest_job(box))
    assert props["State"] == "failed" and props["Error"][0] == "Conflict"


def test_cancel_of_a_running_job_rolls_it_back(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    reply = call(box.bus_address, "Apply", "sa{sv}", [stalling_state(box), {}])
    assert reply.error is None, reply
    (job,) = reply.body
    mid_job(box, job)

    result = nmstatectl("cancel", job)

    assert result.returncode == 0, result.stderr
    assert "cancelled" in result.stdout and "rolled back" in result.stdout
    props = job_props(box, job)
    assert props["State"] == "cancelled" and props["Error"][0] == "Cancelled"
    assert has_only(box, OLD)
    assert "eth2" not in profiles(box).values()
    assert nm_checkpoints(box.bus_address) == []


def test_cancel_of_a_queued_job_drops_it(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    holding = call(
        box.bus_address,
        "ApplyAndWait",
        "sa{sv}",
        [eth1_state(NEW), {"commit": Variant("b", False)}],
    )
    assert holding.error is None, holding
    queued = call(box.bus_address, "Apply", "sa{sv}", [eth1_state("192.0.2.99"), {}])
    assert job_props(box, queued.body[0])["State"] == "queued"

    cancelled = nmstatectl("cancel", queued.body[0].rsplit("/", 1)[-1])

    assert cancelled.returncode == 0, cancelled.stderr
    props = job_props(box, queued.body[0])
    assert props["State"] == "cancelled"
    assert "before it ran" in props["Error"][1]
    assert nmstatectl("rollback").returncode == 0
    assert has_only(box, OLD)
    jobs = nmstatectl("jobs")
    assert jobs.returncode == 0, jobs.stderr
    assert "cancelled" in jobs.stdout and "rolled-back" in jobs.stdout


def test_a_job_that_stalls_past_its_deadline_is_rolled_back_by_networkmanager(
    nmstatectl: Ctl,
) -> None:
    box = applied_old_state(nmstatectl)
    reply = call(
        box.bus_address,
        "Apply",
        "sa{sv}",
        [stalling_state(box), {"rollback-timeout": Variant("u", 3)}],
    )
    assert reply.error is None, reply

    final = wait_job_state(box.bus_address, reply.body[0])

    assert final["State"] == "rolled-back"
    kind, message = final["Error"]
    assert kind == "Timeout" and "stalled past its rollback timeout (3 s)" in message, message
    assert has_only(box, OLD)
    assert "eth2" not in profiles(box).values()
    assert nm_checkpoints(box.bus_address) == []

"""A job's number is never given to another job after the daemon restarts."""

from __future__ import annotations

import signal

from sandbox import Sandbox
from tests.bus import call
from tests.jobs import NEW, OLD, eth1_state


def job_number(path: str) -> int:
    prefix = "/org/nmstate/job/"
    assert path.startswith(prefix), path
    return int(path.removeprefix(prefix))


def test_job_numbers_go_on_after_a_restart(daemon: Sandbox) -> None:
    box = daemon
    first = call(box.bus_address, "ApplyAndWait", "sa{sv}", [eth1_state(OLD), {}])
    second = call(box.bus_address, "ApplyAndWait", "sa{sv}", [eth1_state(NEW), {}])
    assert first.error is None and second.error is None, (first.error, second.error)
    before = job_number(second.body[0])
    assert before > job_number(first.body[0])

    box.stop_nmstated(signal.SIGTERM)
    box.start_nmstated()

    after = call(box.bus_address, "ApplyAndWait", "sa{sv}", [eth1_state(OLD), {}])
    assert after.error is None, after.error
    assert job_number(after.body[0]) > before

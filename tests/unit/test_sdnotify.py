"""Talking to systemd: the STATUS= line, the watchdog interval and pings."""

from __future__ import annotations

import asyncio
import os
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nmstated.jobs import ApplyRequest, Job, JobState
from nmstated.model import NetworkState
from nmstated.sdnotify import QueueStatus, Watchdog, notify, queue_status, watchdog_interval


def job(job_id: int, state: str) -> Job:
    return Job(
        id=job_id, desired=NetworkState(), request=ApplyRequest(), sender=":1.1", state=state
    )


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "idle"),
        ([JobState.SUCCEEDED, JobState.ROLLED_BACK], "idle"),
        ([JobState.SUCCEEDED, JobState.RUNNING, JobState.QUEUED, JobState.QUEUED],
         "running job 2, 2 queued"),
        ([JobState.VERIFYING], "running job 1"),
        ([JobState.AWAITING_COMMIT, JobState.QUEUED], "job 1 awaiting commit, 1 queued"),
        ([JobState.QUEUED], "1 queued"),
    ],
)  # fmt: skip
def test_queue_status(states: list[str], expected: str) -> None:
    assert queue_status(job(i, s) for i, s in enumerate(states, start=1)) == expected


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


def receive(sock: socket.socket) -> str:
    ready, _, _ = select.select([sock], [], [], 10)
    assert ready, "no notification within 10 s"
    return sock.recv(4096).decode()


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_PID")
    for bad in ("0", "soon", "-5"):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert watchdog_interval() is None


def test_notify_sends_all_assignments_in_one_message(notify_socket: socket.socket) -> None:
    notify("READY=1", "STATUS=idle")
    assert receive(notify_socket) == "READY=1\nSTATUS=idle"


def test_notify_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    notify("STATUS=idle")  # the manager went away: the daemon carries on
    monkeypatch.delenv("NOTIFY_SOCKET")
    notify("STATUS=idle")  # not started by systemd at all


def test_watchdog_pings_until_closed(notify_socket: socket.socket) -> None:
    async def run() -> None:
        watchdog = Watchdog(interval=0.001)
        watchdog.start()
        try:
            # two pings: the first and one after a period
            for _ in range(2):
                assert await asyncio.to_thread(receive, notify_socket) == "WATCHDOG=1"
        finally:
            await watchdog.close()

    asyncio.run(run())
    while select.select([notify_socket], [], [], 0)[0]:
        notify_socket.recv(4096)  # pings sent before close
    notify("STATUS=closed")
    assert receive(notify_socket) == "STATUS=closed"  # no ping came after close


class FakeEngine:
    """What QueueStatus uses of the engine: the job table and the creation hook."""

    def __init__(self) -> None:
        self.jobs: dict[int, Job] = {}
        self.on_job_created: list[Any] = []

    def submit(self, job_id: int) -> Job:
        new = job(job_id, JobState.QUEUED)
        self.jobs[job_id] = new
        for callback in self.on_job_created:
            callback(new)
        return new


def test_status_follows_the_jobs_and_is_sent_only_when_it_changes(
    notify_socket: socket.socket,
) -> None:
    engine = FakeEngine()
    status = QueueStatus(engine)  # type: ignore[arg-type]
    status.update()
    assert receive(notify_socket) == "STATUS=idle"
    first = engine.submit(1)
    assert receive(notify_socket) == "STATUS=1 queued"
    engine.submit(2)
    assert receive(notify_socket) == "STATUS=2 queued"
    first.update(state=JobState.RUNNING)
    assert receive(notify_socket) == "STATUS=running job 1, 1 queued"
    first.update(progress="activating eth1")  # not a state change: nothing sent
    status.update()  # same text: nothing sent
    first.finish(JobState.SUCCEEDED)
    assert receive(notify_socket) == "STATUS=1 queued"
    assert not select.select([notify_socket], [], [], 0)[0]

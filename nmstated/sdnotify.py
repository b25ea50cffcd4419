"""Talking to systemd: readiness, the watchdog and the STATUS= line.

All of it is a no-op when the daemon was not started with $NOTIFY_SOCKET.
The watchdog is fed from the event loop itself, so a loop that hangs stops
the pings and systemd restarts the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable

from nmstated.engine import Engine
from nmstated.jobs import Job, JobState

log = logging.getLogger(__name__)


_unreachable_reported = False


def notify(*assignments: str) -> None:
    """Send ``VAR=value`` lines to systemd (sd_notify(3)); never raises.

    A notification is advice to the service manager: when its socket is gone
    (the manager went away, or a test harness stopped listening) the daemon
    carries on, and says so once in its debug log.
    """
    global _unreachable_reported
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    from systemd.daemon import notify as sd_notify

    try:
        sd_notify("\n".join(assignments))
    except OSError as err:
        if not _unreachable_reported:
            _unreachable_reported = True
            log.debug("cannot notify the service manager: %s", err)


def watchdog_interval() -> float | None:
    """Seconds between pings: half of $WATCHDOG_USEC, or None without a watchdog.

    As sd_watchdog_enabled(3): $WATCHDOG_PID, when set, must be our pid.
    """
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None


class Watchdog:
    """A task pinging WATCHDOG=1 every *interval* seconds until closed."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="watchdog")

    async def close(self) -> None:
        self._closing.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            notify("WATCHDOG=1")
            # Waiting for "closing" with a timeout is the period: close()
            # ends the task at once instead of after the next ping.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._interval)
                return


def queue_status(jobs: Iterable[Job]) -> str:
    """The STATUS= line: 'idle', 'running job 4, 2 queued', 'job 5 awaiting commit'."""
    active: list[str] = []
    queued = 0
    for job in sorted(jobs, key=lambda j: j.id):
        if job.state == JobState.QUEUED:
            queued += 1
        elif job.state in (JobState.RUNNING, JobState.VERIFYING):
            active.append(f"running job {job.id}")
        elif job.state not in JobState.FINAL:
            active.append(f"job {job.id} {job.state.replace('-', ' ')}")
    if queued:
        active.append(f"{queued} queued")
    return ", ".join(active) or "idle"


class QueueStatus:
    """Keeps systemd's STATUS= line current with the engine's jobs."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._last = ""
        engine.on_job_created.append(self._watch)

    def _watch(self, job: Job) -> None:
        job.listeners.append(lambda _job, changed: self._changed(changed))
        self.update()

    def _changed(self, changed: frozenset[str]) -> None:
        if "state" in changed:
            self.update()

    def update(self) -> None:
        status = queue_status(self._engine.jobs.values())
        if status != self._last:
            self._last = status
            notify(f"STATUS={status}")

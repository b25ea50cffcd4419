"""Jobs and the queue: one job at a time, in arrival order.

``submit`` queues a job (bounded: ``QueueFull``); the worker takes the
oldest and runs it as a ``Transaction`` in a task of its own, so a job can
be cancelled without stopping the worker.  A job run with ``commit=false``
keeps the writer slot while it awaits commit: the next job would need a
checkpoint over the same devices.  Finished jobs are kept for a while
(bounded history) so their outcome stays readable, then forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nmstated.backends.networkmanager import checkpoint
from nmstated.backends.networkmanager.checkpoint import CheckpointStore
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.current import CurrentStateReader, ShowOptions
from nmstated.errors import ALL_KINDS, Cancelled, Conflict, InternalError, QueueFull
from nmstated.job_numbers import JobNumbers
from nmstated.jobs import ApplyRequest, Decision, Job, JobLog, JobState
from nmstated.model import NetworkState
from nmstated.monitor import KernelMonitor
from nmstated.transaction import Transaction

__all__ = ["ApplyRequest", "Engine", "Job", "JobState"]

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        nm: NetworkManagerClient,
        reader: CurrentStateReader,
        monitor: KernelMonitor,
        *,
        run_dir: Path | None = None,
        max_queue: int = 32,
        history: int = 64,
    ) -> None:
        self._nm = nm
        self._reader = reader
        self._monitor = monitor
        self._store = CheckpointStore(run_dir)
        self._max_queue = max_queue
        self._history = history
        self._numbers = JobNumbers(run_dir)
        self._pending: deque[Job] = deque()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._current: tuple[Transaction, asyncio.Task[None]] | None = None
        self._finished_order: deque[int] = deque()
        self._closing = False
        self.jobs: dict[int, Job] = {}
        self.on_job_created: list[Callable[[Job], None]] = []
        self.on_job_forgotten: list[Callable[[Job], None]] = []
        # The job list or the queue length changed.
        self.on_jobs_changed: list[Callable[[], None]] = []

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        """Roll back a checkpoint a killed predecessor left, then take jobs."""
        record = self._store.load()
        if record is not None:
            log.warning("%s", await checkpoint.recover(self._nm, record))
            self._store.clear()
        self._worker = asyncio.create_task(self._work(), name="job-worker")

    async def close(self) -> None:
        """Stop taking jobs; roll back the active one; drop the queued ones."""
        self._closing = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._current is not None:
            transaction, task = self._current
            if not task.done():
                log.info("job %d: rolling it back, nmstated is stopping", transaction.job.id)
                transaction.cancel_reason = "nmstated stopped before the job was committed"
                task.cancel()
            await asyncio.wait({task})
            self._end_of(transaction.job, task)
        while self._pending:
            job = self._pending.popleft()
            job.finish(JobState.CANCELLED, Cancelled("nmstated stopped before the job ran"))
            self._remember(job)

    # -- state ---------------------------------------------------------------------
    @property
    def queue_length(self) -> int:
        return len(self._pending)

    @property
    def running_job_id(self) -> int | None:
        """The job holding the writer slot (running, verifying, awaiting commit)."""
        return self._current[0].job.id if self._current is not None else None

    def pending_commit(self) -> Job | None:
        """The job awaiting commit, if any (at most one: it holds the writer slot)."""
        if self._current is not None:
            job = self._current[0].job
            if job.state == JobState.AWAITING_COMMIT:
                return job
        return None

    async def show(self, options: ShowOptions) -> dict[str, Any]:
        return await self._reader.read_dict(options=options)

    # -- requests ----------------------------------------------------------------
    def submit(self, desired: NetworkState, request: ApplyRequest, sender: str) -> Job:
        if self._closing:
            raise Cancelled("nmstated is stopping; the request was not queued")
        if len(self._pending) >= self._max_queue:
            raise QueueFull(f"{self._max_queue} jobs are already waiting; try again later")
        job = Job(id=self._numbers.next(), desired=desired, request=request, sender=sender)
        self.jobs[job.id] = job
        for callback in self.on_job_created:
            callback(job)
        self._pending.append(job)
        self._wakeup.set()
        self._jobs_changed()
        return job

    async def cancel(self, job: Job, by: str = "") -> None:
        """Drop a queued job; roll back an active one.  Returns when it has ended."""
        who = f" by {by}" if by else ""
        if job in self._pending:
            self._pending.remove(job)
            log.info("job %d: cancelled%s before it ran", job.id, who)
            job.finish(JobState.CANCELLED, Cancelled(f"cancelled{who} before it ran"))
            self._remember(job)
            self._jobs_changed()
            return
        active = self._active(job)
        if active is None:
            raise Conflict(f"job {job.id} has already ended ({job.state}); nothing to cancel")
        transaction, task = active
        log.info("job %d: cancelled%s", job.id, who)
        transaction.cancel_reason = f"cancelled{who}"
        task.cancel()
        await job.done.wait()

    async def commit(self, job: Job) -> None:
        """Keep the changes of a job awaiting commit."""
        await self._decide(job, Decision.COMMIT, JobState.SUCCEEDED)

    async def rollback(self, job: Job) -> None:
        """Undo the changes of a job awaiting commit."""
        await self._decide(job, Decision.ROLLBACK, JobState.ROLLED_BACK)

    async def _decide(self, job: Job, decision: Decision, expected: str) -> None:
        active = self._active(job)
        if active is None or not active[0].decide(decision):
            raise Conflict(
                f"job {job.id} is not awaiting commit (it is {job.state}); "
                f"nothing to {decision.value}"
            )
        log.info("job %d: %s requested", job.id, decision.value)
        await job.done.wait()
        if job.state != expected or job.error_message:  # e.g. rolled back, not entirely
            raise ALL_KINDS.get(job.error_kind, InternalError)(job.error_message)

    def _active(self, job: Job) -> tuple[Transaction, asyncio.Task[None]] | None:
        if self._current is not None and self._current[0].job is job and not job.ended:
            return self._current
        return None

    # -- work ------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            while not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            job = self._pending.popleft()
            self._jobs_changed()
            transaction = Transaction(
                job,
                self._nm,
                self._reader,
                self._monitor,
                self._store,
                JobLog(log, {"job": job.id}),
            )
            task = asyncio.create_task(transaction.run(), name=f"job-{job.id}")
            self._current = (transaction, task)
            # asyncio.wait: a cancelled job must not stop the worker, and a
            # cancelled worker (close) leaves the job to close() to roll back.
            await asyncio.wait({task})
            self._end_of(job, task)

    def _end_of(self, job: Job, task: asyncio.Task[None]) -> None:
        if self._current is None or self._current[1] is not task:
            return
        self._current = None
        if not task.cancelled() and task.exception() is not None:
            log.error("job %d: crashed", job.id, exc_info=task.exception())
        if not job.ended:  # only a bug gets here: Transaction.run always finishes the job
            job.finish(JobState.FAILED, InternalError("the job ended without an outcome"))
        self._remember(job)

    def _remember(self, job: Job) -> None:
        self._finished_order.append(job.id)
        while len(self._finished_order) > self._history:
            old = self.jobs.pop(self._finished_order.popleft())
            for callback in self.on_job_forgotten:
                callback(old)
        self._jobs_changed()

    def _jobs_changed(self) -> None:
        for callback in self.on_jobs_changed:
            callback()

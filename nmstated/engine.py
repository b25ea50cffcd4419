"""Jobs, the queue and transactions.

Jobs run one at a time in arrival order.  Each runs inside one
NetworkManager checkpoint: apply → verify → commit, or roll back on any
failure (under ``asyncio.shield``, so a cancel cannot interrupt it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nmstated import diff, merge, verify
from nmstated.backends.networkmanager.apply import ApplyOptions, NetworkManagerApplier
from nmstated.backends.networkmanager.checkpoint import Checkpoint
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.current import CurrentStateReader, ShowOptions
from nmstated.errors import (
    Cancelled,
    InternalError,
    NmstateError,
    QueueFull,
    VerificationFailed,
)
from nmstated.model import NetworkState
from nmstated.monitor import KernelMonitor

log = logging.getLogger(__name__)

VERIFY_TIMEOUT = 10.0


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    VERIFYING = "verifying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    CANCELLED = "cancelled"
    FINAL = frozenset({SUCCEEDED, FAILED, ROLLED_BACK, CANCELLED})


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    verify: bool = True
    rollback_timeout: int = 60
    memory_only: bool = False
    dry_run: bool = False


JobListener = Callable[["Job", frozenset[str]], None]


@dataclass(eq=False)
class Job:
    """One Apply request; its public fields are what org.nmstate.Job exports."""

    id: int
    desired: NetworkState
    request: ApplyRequest
    sender: str
    created: float = field(default_factory=time.time)
    state: str = JobState.QUEUED
    progress: str = ""
    error_kind: str = ""
    error_message: str = ""
    diff: str = ""
    finished: float = 0.0
    listeners: list[JobListener] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def update(self, **changes: Any) -> None:
        changed = frozenset(k for k, v in changes.items() if getattr(self, k) != v)
        for key, value in changes.items():
            setattr(self, key, value)
        if changed:
            for listener in list(self.listeners):
                listener(self, changed)

    def finish(self, state: str, error: NmstateError | None = None) -> None:
        self.update(
            state=state,
            progress="",
            error_kind=error.kind if error else "",
            error_message=error.message if error else "",
            finished=time.time(),
        )
        self.done.set()


class JobLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Every line of a job's work carries its id."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"job {self.extra['job']}: {msg}", kwargs  # type: ignore[index]


class Engine:
    def __init__(
        self,
        nm: NetworkManagerClient,
        reader: CurrentStateReader,
        monitor: KernelMonitor,
        *,
        max_queue: int = 32,
        history: int = 64,
    ) -> None:
        self._nm = nm
        self._reader = reader
        self._monitor = monitor
        self._max_queue = max_queue
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._worker: asyncio.Task[None] | None = None
        self.jobs: dict[int, Job] = {}
        self._finished_order: deque[int] = deque()
        self._history = history
        self.on_job_created: list[Callable[[Job], None]] = []
        self.on_job_forgotten: list[Callable[[Job], None]] = []

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="job-worker")

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._queue.empty():
            self._queue.get_nowait().finish(
                JobState.CANCELLED, Cancelled("the daemon stopped before the job ran")
            )

    # -- requests ----------------------------------------------------------------
    @property
    def queue_length(self) -> int:
        return self._queue.qsize()

    def submit(self, desired: NetworkState, request: ApplyRequest, sender: str) -> Job:
        if self._queue.qsize() >= self._max_queue:
            raise QueueFull(f"{self._max_queue} jobs are already waiting; try again later")
        job = Job(id=next(self._ids), desired=desired, request=request, sender=sender)
        self.jobs[job.id] = job
        for callback in self.on_job_created:
            callback(job)
        self._queue.put_nowait(job)
        return job

    async def show(self, options: ShowOptions) -> dict[str, Any]:
        return await self._reader.read_dict(options=options)

    # -- work ------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            await self._run(job)
            self._remember(job)

    def _remember(self, job: Job) -> None:
        self._finished_order.append(job.id)
        while len(self._finished_order) > self._history:
            old = self.jobs.pop(self._finished_order.popleft())
            for callback in self.on_job_forgotten:
                callback(old)

    async def _run(self, job: Job) -> None:
        jlog = JobLog(log, {"job": job.id})
        changed_anything = False
        checkpoint: Checkpoint | None = None
        try:
            job.update(state=JobState.RUNNING, progress="reading the current state")
            current = await self._reader.read()
            desired = merge.plan_input(job.desired, current)
            if job.request.dry_run:
                job.update(diff=json.dumps(diff.diff(desired, current)))
                job.finish(JobState.SUCCEEDED)
                return
            checkpoint = await Checkpoint.create(self._nm, job.request.rollback_timeout)
            jlog.info("checkpoint %s", checkpoint.path)
            try:
                applier = NetworkManagerApplier(
                    self._nm,
                    ApplyOptions(to_disk=not job.request.memory_only),
                    lambda text: self._progress(job, jlog, text),
                    lambda iface: (
                        not verify.interface_problems(iface, current.interface(iface.name))
                    ),
                )
                await applier.apply(desired)
                changed_anything = applier.writes > 0
                if job.request.verify:
                    job.update(state=JobState.VERIFYING, progress="verifying")
                    await self._verify(desired)
                await checkpoint.commit()
            except BaseException:
                jlog.info("rolling back")
                before = NetworkState(
                    interfaces=tuple(
                        i for i in current.interfaces if desired.interface(i.name) is not None
                    )
                )
                await asyncio.shield(self._rollback(checkpoint, jlog, before))
                raise
        except asyncio.CancelledError:
            job.finish(JobState.CANCELLED, Cancelled("cancelled; all changes were rolled back"))
            raise
        except NmstateError as err:
            jlog.info("failed: %s", err.message)
            if checkpoint is not None:
                job.finish(
                    JobState.ROLLED_BACK,
                    type(err)(f"{err.message}; all changes were rolled back"),
                )
            else:
                job.finish(JobState.FAILED, err)
        except Exception:
            jlog.exception("internal error")
            job.finish(
                JobState.FAILED,
                InternalError("internal error in nmstated (details in its log); nothing kept"),
            )
        else:
            jlog.info("succeeded (%s)", "changed" if changed_anything else "nothing to change")
            job.finish(JobState.SUCCEEDED)

    def _progress(self, job: Job, jlog: JobLog, text: str) -> None:
        jlog.info("%s", text)
        job.update(progress=text)

    async def _rollback(self, checkpoint: Checkpoint, jlog: JobLog, before: NetworkState) -> None:
        """Roll back, then wait until the touched interfaces are as they were.

        NetworkManager answers CheckpointRollback before it has re-activated
        the old profiles; a job must not report ``rolled-back`` before the
        old state is really back.
        """
        try:
            result = await checkpoint.rollback()
            jlog.info("rolled back: %s", result)
            await self._verify(before)
        except NmstateError as err:
            jlog.error("rollback incomplete: %s", err.message)

    async def _verify(self, desired: NetworkState) -> None:
        """Re-check after each kernel change until it matches or time runs out."""
        names = [iface.name for iface in desired.interfaces]
        await self._nm.subscribe()
        deadline = asyncio.get_running_loop().time() + VERIFY_TIMEOUT
        while True:
            seen_kernel, seen_nm = self._monitor.generation, self._nm.signal_generation
            found = verify.problems(desired, await self._reader.read(names))
            if not found:
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise VerificationFailed("verification failed: " + "; ".join(found))
            await self._wait_for_change(seen_kernel, seen_nm, remaining)

    async def _wait_for_change(self, seen_kernel: int, seen_nm: int, timeout: float) -> None:
        """Until the kernel or NetworkManager reports a change (our state mixes both)."""
        waits = {
            asyncio.ensure_future(self._monitor.wait_for_change(seen_kernel, timeout)),
            asyncio.ensure_future(self._nm.wait_for_signal(seen_nm, timeout)),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

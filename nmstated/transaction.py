"""One job's run: apply and verify inside our checkpoint, then commit — or
wait for the caller's decision (``commit=false``), or roll back.

While the work runs, three things are watched at once: the work itself, the
checkpoint (NetworkManager's signals say when it disappears: rolled back at
its deadline, removed, or NetworkManager gone) and our own deadline timer,
in case a signal was missed.  Each progress step of the work moves the
deadline on, so long work that is still progressing is not rolled back
under its feet; work that stalls is.

Rolling back always runs to its end, even when the job is cancelled
meanwhile (``run_to_end``), and a job reports ``rolled-back`` only once the
interfaces it touched are back as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, TypeVar

from nmstated import diff, merge, verify
from nmstated.backends.kernel.links import delete_link
from nmstated.backends.networkmanager.apply import ApplyOptions, NetworkManagerApplier, preview
from nmstated.backends.networkmanager.checkpoint import Checkpoint, CheckpointStore, Loss
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.current import CurrentStateReader
from nmstated.dynamic_addresses import without_dynamic_addresses
from nmstated.errors import (
    BackendError,
    Cancelled,
    InternalError,
    NmstateError,
    Timeout,
    VerificationFailed,
)
from nmstated.jobs import Decision, Job, JobLog, JobState
from nmstated.model import Interface, InterfaceState, InterfaceType, NetworkState
from nmstated.monitor import KernelMonitor

VERIFY_TIMEOUT = 10.0
# Our deadline timer fires this long after NetworkManager should have rolled
# back (its timeout is in whole seconds, rounded up when adjusted).
GRACE = 2.0

Outcome = tuple[str, NmstateError | None]
T = TypeVar("T")

# Why a checkpoint went away when it was not at its deadline; nothing can be
# rolled back then.
_LOSS_CAUSES = {
    Loss.REMOVED: "our checkpoint was removed by someone else (NetworkManager stopping, or "
    "another tool)",
    Loss.NM_GONE: "NetworkManager stopped and our checkpoint went with it",
}
_NOT_UNDONE = "the changes could not be rolled back"


class _Lost(Exception):
    """The checkpoint went away under a running or waiting job."""

    def __init__(self, loss: Loss) -> None:
        super().__init__(loss.value)
        self.loss = loss


async def run_to_end(awaitable: Awaitable[T]) -> T:
    """Await *awaitable* to its end even if we are cancelled meanwhile.

    A cancellation that arrives while it runs is re-raised afterwards, so
    cleanup (a rollback) is never cut short and never left running unowned.
    """
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                raise
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result


def restorable(current: NetworkState, desired: NetworkState) -> NetworkState:
    """What a rollback must bring back: the interfaces the job touches, as they are,
    and none of those it creates (NetworkManager deletes them after it answered).

    A software interface the rollback re-creates gets a new random MAC
    address, so only a NIC's MAC address is expected back.
    """
    existing = tuple(
        iface if iface.type == InterfaceType.ETHERNET else replace(iface, mac_address=None)
        for iface in current.interfaces
        if desired.interface(iface.name) is not None
    )
    created = tuple(
        Interface(name=iface.name, state=InterfaceState.ABSENT)
        for iface in desired.interfaces
        if current.interface(iface.name) is None and iface.effective_state != InterfaceState.ABSENT
    )
    return NetworkState(interfaces=existing + created)


class Transaction:
    """Runs one job to its end; the engine holds it while the job is active."""

    def __init__(
        self,
        job: Job,
        nm: NetworkManagerClient,
        reader: CurrentStateReader,
        monitor: KernelMonitor,
        store: CheckpointStore,
        jlog: JobLog,
    ) -> None:
        self.job = job
        self._nm = nm
        self._reader = reader
        self._monitor = monitor
        self._store = store
        self._log = jlog
        self.cancel_reason = "cancelled"
        self._decision: asyncio.Future[Decision] | None = None
        self._progressed: asyncio.Future[None] | None = None
        self._applier: NetworkManagerApplier | None = None
        self._before = NetworkState()
        self._undone = False
        self._rolled_back = False
        self._incomplete = False  # rolled back, but the verification found differences
        self._undo_note = "nothing was changed"

    # -- requests from the engine ----------------------------------------------
    def decide(self, decision: Decision) -> bool:
        """Commit or roll back a job awaiting commit; False if it is not waiting."""
        if self._decision is None or self._decision.done():
            return False
        self._decision.set_result(decision)
        return True

    # -- the run -------------------------------------------------------------------
    async def run(self) -> None:
        """Run the job and finish it, whatever happens (a cancel is re-raised)."""
        job = self.job
        try:
            state, error = await self._execute()
        except asyncio.CancelledError:
            self._log.info("%s; %s", self.cancel_reason, self._undo_note)
            job.finish(JobState.CANCELLED, Cancelled(f"{self.cancel_reason}; {self._undo_note}"))
            raise
        except Exception:
            self._log.exception("internal error")
            state = JobState.ROLLED_BACK if self._rolled_back else JobState.FAILED
            error = InternalError(
                f"internal error in nmstated (details in its log); {self._undo_note}"
            )
        if error is None:
            self._log.info("%s", state)
        else:
            self._log.info("%s: %s", state, error.message)
        job.finish(state, error)

    async def _execute(self) -> Outcome:
        job = self.job
        job.update(state=JobState.RUNNING, progress="reading the current state")
        try:
            current = await self._reader.read()
            desired, notes = without_dynamic_addresses(job.desired, current)
            for note in notes:
                self._log.info("%s", note)
            desired = merge.plan_input(desired, current)
            if job.request.dry_run:
                effects = await preview(self._nm, desired)
                job.update(diff=json.dumps(diff.diff(desired, current, effects)))
                return JobState.SUCCEEDED, None
            job.update(progress="creating a checkpoint")
            checkpoint = await self._create_checkpoint()
        except NmstateError as err:
            return JobState.FAILED, err
        self._before = restorable(current, desired)
        self._store.save(checkpoint.record(job.id))
        job.update(rollback_deadline=checkpoint.deadline_epoch)
        self._log.info(
            "checkpoint %s: NetworkManager rolls back in %d s unless committed",
            checkpoint.path,
            checkpoint.timeout,
        )
        try:
            return await self._transact(checkpoint, desired, current)
        finally:
            checkpoint.close()
            self._store.clear()

    async def _create_checkpoint(self) -> Checkpoint:
        """A new checkpoint; one made while we were being cancelled is destroyed again."""
        creating = asyncio.ensure_future(
            Checkpoint.create(self._nm, self.job.request.rollback_timeout)
        )
        try:
            return await asyncio.shield(creating)
        except asyncio.CancelledError:
            await run_to_end(asyncio.wait({creating}))
            if not creating.cancelled() and creating.exception() is None:
                made = creating.result()
                made.close()
                with contextlib.suppress(NmstateError):
                    await run_to_end(made.commit())  # nothing was changed under it yet
            raise

    async def _transact(
        self, checkpoint: Checkpoint, desired: NetworkState, current: NetworkState
    ) -> Outcome:
        job = self.job
        try:
            await self._guard(checkpoint, self._apply_and_verify(desired, current))
            if not job.request.commit:
                decision = await self._await_decision(checkpoint)
                if decision is Decision.ROLLBACK:
                    await run_to_end(self._undo(checkpoint))
                    if self._rolled_back:
                        # Said in the job's Error, and by Rollback's answer.
                        shortfall = BackendError(self._undo_note) if self._incomplete else None
                        return JobState.ROLLED_BACK, shortfall
                    return JobState.FAILED, BackendError(f"rollback requested; {self._undo_note}")
            job.update(progress="committing")
            await checkpoint.commit()
            return JobState.SUCCEEDED, None
        except _Lost as lost:
            await run_to_end(self._undo(checkpoint))
            return self._after_loss(lost.loss)
        except BaseException as exc:
            await run_to_end(self._undo(checkpoint))
            if isinstance(exc, NmstateError):
                return self._after_failure(checkpoint, exc)
            raise

    # -- stages --------------------------------------------------------------------
    async def _apply_and_verify(self, desired: NetworkState, current: NetworkState) -> None:
        job = self.job
        applier = NetworkManagerApplier(
            self._nm,
            ApplyOptions(to_disk=not job.request.memory_only),
            self.progress,
            lambda iface: not verify.interface_problems(iface, current.interface(iface.name)),
        )
        self._applier = applier
        await applier.apply(desired)
        self._log.info("%d NetworkManager writes", applier.writes)
        if job.request.verify:
            job.update(state=JobState.VERIFYING, progress="verifying")
            await self._verify(desired)

    async def _await_decision(self, checkpoint: Checkpoint) -> Decision:
        job = self.job
        self._decision = asyncio.get_running_loop().create_future()
        # The caller gets the whole timeout from now to decide.
        await checkpoint.extend(job.request.rollback_timeout)
        job.update(
            state=JobState.AWAITING_COMMIT,
            progress="",
            rollback_deadline=checkpoint.deadline_epoch,
        )
        self._log.info(
            "awaiting commit; rolled back in %d s unless committed", job.request.rollback_timeout
        )
        return await self._guard(checkpoint, self._decision)

    def progress(self, text: str) -> None:
        self._log.info("%s", text)
        self.job.update(progress=text)
        if self._progressed is not None and not self._progressed.done():
            self._progressed.set_result(None)

    async def _guard(self, checkpoint: Checkpoint, awaitable: Awaitable[T]) -> T:
        """*awaitable*'s result, unless the checkpoint goes first (``_Lost``)."""
        loop = asyncio.get_running_loop()
        work = asyncio.ensure_future(awaitable)
        try:
            while True:
                self._progressed = loop.create_future()
                timer = checkpoint.remaining + GRACE + 1.0
                watched: set[asyncio.Future[Any]] = {work, checkpoint.lost, self._progressed}
                await asyncio.wait(
                    watched,
                    timeout=max(timer, 0.0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if checkpoint.loss is not None:
                    raise _Lost(checkpoint.loss)
                if work.done():
                    return work.result()
                if self._progressed.done():
                    await self._keep_alive(checkpoint)
                elif checkpoint.remaining + GRACE + 1.0 <= 0:
                    await checkpoint.confirm_expiry()
        finally:
            self._progressed = None
            if not work.done():
                work.cancel()
                await run_to_end(asyncio.wait({work}))
            if not work.cancelled():
                work.exception()  # retrieved: the outcome is decided above

    async def _keep_alive(self, checkpoint: Checkpoint) -> None:
        """The work progressed: move the deadline on once half of it is used up."""
        if checkpoint.remaining < checkpoint.timeout / 2:
            await checkpoint.extend(checkpoint.timeout)
            self.job.update(rollback_deadline=checkpoint.deadline_epoch)
            self._log.debug(
                "still progressing; rollback deadline moved %d s on", checkpoint.timeout
            )

    # -- undoing ------------------------------------------------------------------
    async def _undo(self, checkpoint: Checkpoint) -> None:
        """Roll back (once) and wait until the touched interfaces are as they were."""
        if self._undone:
            return
        self._undone = True
        loss = checkpoint.loss
        if loss is None:
            self.job.update(progress="rolling back")
            self._log.info("rolling back")
            try:
                result = await checkpoint.rollback()
                self._log.info("rolled back: %s", result)
            except NmstateError as err:
                loss = checkpoint.loss  # NetworkManager may have left meanwhile
                if loss is None:
                    self._log.error("rolling back failed: %s", err.message)
                    self._undo_note = f"rolling back failed: {err.message}"
                    return
        if loss in _LOSS_CAUSES:
            self._undo_note = f"{_LOSS_CAUSES[loss]}, so {_NOT_UNDONE}"
            return
        # NetworkManager restored its part (on our request, or at the deadline).
        if self._applier is not None:
            await self._applier.undo()
        await self._remove_created()
        self._rolled_back = True
        try:
            await self._verify(self._before)
        except NmstateError as err:
            # Typically what was changed outside NetworkManager before the job
            # (an MTU set with ip): its checkpoint brings back its own view only.
            self._log.error("rolled back, but not everything is as before: %s", err.message)
            self._undo_note = f"rolled back, but not everything is as before: {err.message}"
            self._incomplete = True
            return
        self._undo_note = "all changes were rolled back"

    async def _remove_created(self) -> None:
        """Delete the software interfaces the job created that the rollback left behind.

        NetworkManager's rollback covers the devices it had when the checkpoint
        was taken; one the job created and whose activation failed can stay
        behind as a device NetworkManager no longer manages (a bridge whose
        settings the kernel refused).  It did not exist before: it goes.
        """
        for iface in self._before.interfaces:
            if iface.state != InterfaceState.ABSENT:
                continue
            if self._monitor.cache.link_named(iface.name) is None:
                continue
            self._log.info("deleting %s, created by the job and left by the rollback", iface.name)
            try:
                device = await self._nm.device_named(iface.name)
                if device is not None and device.real:
                    await self._nm.delete_device(device)
                    continue
            except NmstateError as err:
                self._log.warning("NetworkManager could not delete %s: %s", iface.name, err)
            try:
                await delete_link(iface.name)
            except NmstateError as err:
                self._log.warning("%s", err.message)

    def _after_failure(self, checkpoint: Checkpoint, err: NmstateError) -> Outcome:
        loss = checkpoint.loss
        if loss in _LOSS_CAUSES:
            return JobState.FAILED, BackendError(f"{err.message}; {self._undo_note}")
        state = JobState.ROLLED_BACK if self._rolled_back else JobState.FAILED
        return state, type(err)(f"{err.message}; {self._undo_note}")

    def _after_loss(self, loss: Loss) -> Outcome:
        job = self.job
        if loss is not Loss.EXPIRED:
            doing = "awaiting commit" if job.state == JobState.AWAITING_COMMIT else "running"
            return JobState.FAILED, BackendError(
                f"{_LOSS_CAUSES[loss]} while the job was {doing}; {_NOT_UNDONE}"
            )
        timeout = job.request.rollback_timeout
        if job.state == JobState.AWAITING_COMMIT:
            what = f"not committed within {timeout} s"
        else:
            what = f"the job stalled past its rollback timeout ({timeout} s)"
        state = JobState.ROLLED_BACK if self._rolled_back else JobState.FAILED
        return state, Timeout(f"{what}; {self._undo_note}")

    # -- verification ---------------------------------------------------------------
    async def _verify(self, desired: NetworkState) -> None:
        """Re-check after each kernel or NetworkManager change until it matches or time runs out."""
        names = verify.read_filter(desired)
        await self._nm.subscribe()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + VERIFY_TIMEOUT
        while True:
            seen_kernel, seen_nm = self._monitor.generation, self._nm.signal_generation
            found = verify.problems(desired, await self._reader.read(names))
            if not found:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise VerificationFailed("verification failed: " + "; ".join(found))
            await self._wait_for_change(seen_kernel, seen_nm, remaining)

    async def _wait_for_change(self, seen_kernel: int, seen_nm: int, timeout: float) -> None:
        """Until the kernel or NetworkManager reports a change (our state mixes both)."""
        waits: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self._monitor.wait_for_change(seen_kernel, timeout)),
            asyncio.ensure_future(self._nm.wait_for_signal(seen_nm, timeout)),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

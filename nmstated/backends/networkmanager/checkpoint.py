"""NetworkManager checkpoints: every apply runs inside one of ours.

A checkpoint snapshots every device; rolling it back restores them and
removes profiles and devices created since.  NetworkManager rolls it back by
itself when its timeout passes, so a daemon that dies mid-apply leaves the
machine as it was.  We only ever touch checkpoints we created: one that is
already there belongs to someone else and makes the apply a ``Conflict``.

The checkpoint we hold is recorded under the run directory, so a daemon
restarted after being killed recognises its own leftover and rolls it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from dbus_fast import Message

from nmstated.backends.networkmanager.client import NM, NM_PATH, PROPS, NetworkManagerClient
from nmstated.errors import Conflict, NmstateError

log = logging.getLogger(__name__)

CHECKPOINT = NM + ".Checkpoint"
# NMCheckpointCreateFlags understood by NetworkManager 1.42.
DELETE_NEW_CONNECTIONS = 0x02
DISCONNECT_NEW_DEVICES = 0x04
FLAGS = DELETE_NEW_CONNECTIONS | DISCONNECT_NEW_DEVICES
# NetworkManager keeps a checkpoint's timeout in whole seconds since its
# creation and rounds an adjusted one up: it may roll back up to this much
# later than the deadline we computed.
ROUNDING = 1.0


class Loss(enum.Enum):
    """How a checkpoint went away without us committing or rolling it back."""

    EXPIRED = "expired"  # NetworkManager rolled it back at its deadline
    REMOVED = "removed"  # gone before its deadline: NetworkManager stopping, or another tool
    NM_GONE = "nm-gone"  # NetworkManager left the bus; its checkpoints went with it


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """What identifies our checkpoint to a later run of the daemon."""

    path: str
    created: int  # NetworkManager's Created (CLOCK_BOOTTIME ms): tells a reused path apart
    job: int
    pid: int


class CheckpointStore:
    """The record of the checkpoint we hold, as a file under the run directory."""

    FILE_NAME = "checkpoint.json"

    def __init__(self, run_dir: Path | None) -> None:
        self._file = run_dir / self.FILE_NAME if run_dir is not None else None

    def save(self, record: CheckpointRecord) -> None:
        if self._file is None:
            return
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            partial = self._file.with_suffix(".tmp")
            partial.write_text(json.dumps(asdict(record)))
            os.replace(partial, self._file)
        except OSError as err:
            log.warning(
                "cannot record checkpoint %s in %s (%s): if nmstated is killed now, "
                "NetworkManager's deadline still restores the old state",
                record.path,
                self._file,
                err.strerror,
            )

    def load(self) -> CheckpointRecord | None:
        if self._file is None:
            return None
        try:
            data = json.loads(self._file.read_text())
            return CheckpointRecord(
                path=str(data["path"]),
                created=int(data["created"]),
                job=int(data["job"]),
                pid=int(data["pid"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable checkpoint record %s: %s", self._file, err)
            self.clear()
            return None

    def clear(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.unlink(missing_ok=True)


class Checkpoint:
    """A checkpoint we created, watched through NetworkManager's signals.

    ``lost`` resolves to a ``Loss`` when the checkpoint disappears other than
    by our own commit or rollback.  ``deadline`` (event-loop time) and
    ``deadline_epoch`` say when NetworkManager will roll it back.
    """

    def __init__(self, nm: NetworkManagerClient, path: str, created: int, timeout: int) -> None:
        loop = asyncio.get_running_loop()
        self._nm = nm
        self.path = path
        self.created = created
        self.timeout = timeout
        self.lost: asyncio.Future[Loss] = loop.create_future()
        self._settled = False  # we committed or rolled back: its removal is ours
        self._unwatch: Callable[[], None] | None = None
        self.deadline = 0.0
        self.deadline_epoch = 0.0
        self._set_deadline(timeout)

    # -- creating ----------------------------------------------------------------
    @classmethod
    async def create(cls, nm: NetworkManagerClient, timeout: int) -> Checkpoint:
        """A new checkpoint over all devices; ``Conflict`` if another one exists."""
        others = await nm.checkpoints()
        if others:
            raise Conflict(
                f"another checkpoint exists ({', '.join(others)}), not created by this "
                "nmstated; nothing was changed (wait until its owner commits or rolls it back)"
            )
        path = await nm.checkpoint_create(timeout, FLAGS)
        try:
            created = int(await nm.get_property(path, CHECKPOINT, "Created"))
        except NmstateError:
            created = 0  # already gone; the watch below finds out
        checkpoint = cls(nm, path, created, timeout)
        await checkpoint._watch()
        log.debug("checkpoint %s created (timeout %d s)", path, timeout)
        return checkpoint

    def record(self, job: int) -> CheckpointRecord:
        return CheckpointRecord(path=self.path, created=self.created, job=job, pid=os.getpid())

    # -- watching -------------------------------------------------------------------
    async def _watch(self) -> None:
        self._unwatch = await self._nm.watch(self._on_signal)
        # It may have gone between CheckpointCreate and the watch: ask once.
        if not self._settled and self.path not in await self._nm.checkpoints():
            self._mark_lost(self._loss_now())

    def _on_signal(self, msg: Message) -> None:
        if self.lost.done():
            return
        if msg.member == "NameOwnerChanged" and msg.body and msg.body[0] == NM:
            self._mark_lost(Loss.NM_GONE)
        elif (
            not self._settled  # else the removal is our own commit or rollback
            and msg.member == "PropertiesChanged"
            and msg.path == NM_PATH
            and msg.interface == PROPS
            and msg.body[0] == NM
            and "Checkpoints" in msg.body[1]
            and self.path not in msg.body[1]["Checkpoints"].value
        ):
            self._mark_lost(self._loss_now())

    def _loss_now(self) -> Loss:
        now = asyncio.get_running_loop().time()
        return Loss.EXPIRED if now >= self.deadline - ROUNDING else Loss.REMOVED

    def _mark_lost(self, loss: Loss) -> None:
        if not self.lost.done():
            log.info("checkpoint %s is gone (%s)", self.path, loss.value)
            self.lost.set_result(loss)

    async def confirm_expiry(self) -> None:
        """Our own timer says the deadline passed: make sure the old state is back.

        NetworkManager normally rolled back already and we only missed its
        signal; if the checkpoint is somehow still there, we roll it back.
        """
        if self.lost.done():
            return
        if self.path in await self._nm.checkpoints():
            log.warning("checkpoint %s outlived its deadline; rolling it back", self.path)
            await self.rollback()
        self._mark_lost(Loss.EXPIRED)

    @property
    def loss(self) -> Loss | None:
        if self.lost.done() and not self.lost.cancelled():
            return self.lost.result()
        return None

    def close(self) -> None:
        self._settled = True
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if not self.lost.done():
            self.lost.cancel()

    # -- acting ---------------------------------------------------------------------
    async def extend(self, seconds: int) -> None:
        """Move NetworkManager's deadline to *seconds* from now."""
        await self._nm.call(
            NM_PATH,
            NM,
            "CheckpointAdjustRollbackTimeout",
            "ou",
            [self.path, seconds],
            doing="extending the rollback deadline",
        )
        self._set_deadline(seconds)

    async def commit(self) -> None:
        self._settled = True
        await self._nm.checkpoint_destroy(self.path)

    async def rollback(self) -> dict[str, int]:
        self._settled = True
        return await self._nm.checkpoint_rollback(self.path)

    def _set_deadline(self, seconds: int) -> None:
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + seconds
        self.deadline_epoch = time.time() + seconds

    @property
    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()


async def recover(nm: NetworkManagerClient, record: CheckpointRecord) -> str:
    """Roll back the checkpoint a previous run left; says what happened, for the log."""
    left = (
        f"checkpoint {record.path} left by a previous nmstated (pid {record.pid}, job {record.job})"
    )
    try:
        present = record.path in await nm.checkpoints()
        created = int(await nm.get_property(record.path, CHECKPOINT, "Created")) if present else 0
    except NmstateError as err:
        return f"{left} cannot be checked ({err.message}); NetworkManager's deadline applies"
    if not present:
        return (
            f"{left} is gone: NetworkManager already rolled it back at its deadline "
            "(or restarted, which drops checkpoints)"
        )
    if created != record.created:
        return f"{left} is gone; {record.path} is now someone else's checkpoint, left alone"
    try:
        await nm.checkpoint_rollback(record.path)
    except NmstateError as err:
        return f"{left} was still pending; rolling it back failed: {err.message}"
    return f"{left} was still pending: rolled it back, the old state is restored"

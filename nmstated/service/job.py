"""/org/nmstate/job/N — org.nmstate.Job: one Apply request and its outcome."""

from __future__ import annotations

from typing import Annotated

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32, DBusUInt64
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, dbus_signal

from nmstated.engine import Job, JobState

JOB_INTERFACE = "org.nmstate.Job"
JOB_PATH_PREFIX = "/org/nmstate/job/"

# Job field → exported property, for PropertiesChanged.
_PROPERTY_OF = {
    "state": "State",
    "progress": "Progress",
    "error_kind": "Error",
    "error_message": "Error",
    "finished": "FinishedTimestamp",
    "diff": "Diff",
}


def job_path(job_id: int) -> str:
    return f"{JOB_PATH_PREFIX}{job_id}"


class JobInterface(ServiceInterface):
    def __init__(self, job: Job) -> None:
        super().__init__(JOB_INTERFACE)
        self.job = job
        job.listeners.append(self._on_change)

    def _on_change(self, job: Job, changed: frozenset[str]) -> None:
        props = {_PROPERTY_OF[name] for name in changed if name in _PROPERTY_OF}
        if props:
            self.emit_properties_changed({p: getattr(self, p) for p in sorted(props)})
        if "state" in changed and job.state in JobState.FINAL:
            self.Finished()

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusUInt32:
        return self.job.id

    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> DBusStr:
        return self.job.state

    @dbus_property(access=PropertyAccess.READ)
    def Progress(self) -> DBusStr:
        return self.job.progress

    @dbus_property(access=PropertyAccess.READ)
    def Error(self) -> Annotated[list[str], DBusSignature("(ss)")]:
        return [self.job.error_kind, self.job.error_message]

    @dbus_property(access=PropertyAccess.READ)
    def Diff(self) -> DBusStr:
        """JSON, nmstate schema: what a dry run would change."""
        return self.job.diff

    @dbus_property(access=PropertyAccess.READ)
    def Sender(self) -> DBusStr:
        return self.job.sender

    # Microseconds since the epoch, named as systemd names its timestamps; not
    # "Finished", which would clash with the signal in code generators.
    @dbus_property(access=PropertyAccess.READ)
    def CreatedTimestamp(self) -> DBusUInt64:
        return int(self.job.created * 1_000_000)

    @dbus_property(access=PropertyAccess.READ)
    def FinishedTimestamp(self) -> DBusUInt64:
        return int(self.job.finished * 1_000_000)

    @dbus_signal()
    def Finished(self) -> Annotated[list[str], DBusSignature("sss")]:
        return [self.job.state, self.job.error_kind, self.job.error_message]


def export_job(bus: MessageBus, job: Job) -> None:
    bus.export(job_path(job.id), JobInterface(job))


def unexport_job(bus: MessageBus, job: Job) -> None:
    bus.unexport(job_path(job.id))

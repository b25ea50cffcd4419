"""/org/nmstate/job/N — org.nmstate.Job: one Apply request and its outcome."""

from __future__ import annotations

from typing import Annotated

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32, DBusUInt64
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from nmstated.engine import Engine, Job
from nmstated.errors import InvalidArgument
from nmstated.service.boundary import bus_method, caller
from nmstated.service.polkit import Authorizer, authorized

# A method that replies with no value.  dbus-fast reads a plain "-> None"
# annotation, deferred as the string "None", as no signature at all.
NoValue = Annotated[None, DBusSignature("")]

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
    "rollback_deadline": "RollbackDeadline",
}


def job_path(job_id: int) -> str:
    return f"{JOB_PATH_PREFIX}{job_id}"


def job_id_of(path: str) -> int:
    """The id in a job's object path; ``InvalidArgument`` if it is not one."""
    suffix = path.removeprefix(JOB_PATH_PREFIX)
    if suffix == path or not suffix.isdigit():
        raise InvalidArgument(f"'{path}' is not a job path ({JOB_PATH_PREFIX}N)")
    return int(suffix)


def microseconds(seconds: float) -> int:
    return int(seconds * 1_000_000)


class JobInterface(ServiceInterface):
    def __init__(self, job: Job, engine: Engine, authorizer: Authorizer) -> None:
        super().__init__(JOB_INTERFACE)
        self.job = job
        self._engine = engine
        self.authorizer = authorizer
        job.listeners.append(self._on_change)

    def _on_change(self, job: Job, changed: frozenset[str]) -> None:
        props = {_PROPERTY_OF[name] for name in changed if name in _PROPERTY_OF}
        if props:
            self.emit_properties_changed({p: getattr(self, p) for p in sorted(props)})
        if "state" in changed and job.ended:
            self.Finished()

    # -- methods: each one engine call; they reply when the job has ended ------------
    @dbus_method()
    @bus_method
    @authorized
    async def Cancel(self) -> NoValue:
        """Drop the job if queued; roll it back if running or awaiting commit."""
        await self._engine.cancel(self.job, caller())

    @dbus_method()
    @bus_method
    @authorized
    async def Commit(self) -> NoValue:
        """Keep the changes of a job awaiting commit."""
        await self._engine.commit(self.job)

    @dbus_method()
    @bus_method
    @authorized
    async def Rollback(self) -> NoValue:
        """Undo the changes of a job awaiting commit."""
        await self._engine.rollback(self.job)

    # -- properties -------------------------------------------------------------------
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
        return microseconds(self.job.created)

    @dbus_property(access=PropertyAccess.READ)
    def FinishedTimestamp(self) -> DBusUInt64:
        return microseconds(self.job.finished)

    @dbus_property(access=PropertyAccess.READ)
    def RollbackDeadline(self) -> DBusUInt64:
        """When NetworkManager rolls back unless committed; 0 while no checkpoint is held."""
        return microseconds(self.job.rollback_deadline)

    @dbus_signal()
    def Finished(self) -> Annotated[list[str], DBusSignature("sss")]:
        return [self.job.state, self.job.error_kind, self.job.error_message]


def export_jobs(bus: MessageBus, engine: Engine, authorizer: Authorizer) -> None:
    """Export each job as it is created; unexport it when the engine forgets it."""
    engine.on_job_created.append(
        lambda job: bus.export(job_path(job.id), JobInterface(job, engine, authorizer))
    )
    engine.on_job_forgotten.append(lambda job: bus.unexport(job_path(job.id)))

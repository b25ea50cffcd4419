"""/org/nmstate — org.nmstate.Manager: Show, Apply, and deciding on pending jobs.

Each method decodes its arguments, makes one engine call and encodes the
answer; errors are put on the wire by ``bus_method``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from dbus_fast.annotations import DBusDict, DBusObjectPath, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

import nmstated
from nmstated.current import ShowOptions
from nmstated.engine import ApplyRequest, Engine, Job, JobState
from nmstated.errors import ALL_KINDS, Conflict, InternalError, InvalidArgument
from nmstated.model import NetworkState
from nmstated.reuse import RoutesJson
from nmstated.schema import parse_state
from nmstated.service.boundary import bus_method, caller, decode_options
from nmstated.service.job import NoValue, job_id_of, job_path
from nmstated.service.polkit import Authorizer, authorized

MANAGER_INTERFACE = "org.nmstate.Manager"
MANAGER_PATH = "/org/nmstate"
# Commit(o)/Rollback(o) with this path: the job awaiting commit.
LATEST_PENDING = "/"

SHOW_OPTIONS = {
    "interfaces": ("as", None),
    "format": ("s", "json"),
    "running-config": ("b", False),
    "kernel-only": ("b", False),
}


# A day, as for the configuration file's default.
MAX_ROLLBACK_TIMEOUT = 86400


def apply_options(default_rollback_timeout: int) -> dict[str, tuple[str, Any]]:
    return {
        "verify": ("b", True),
        "commit": ("b", True),
        "rollback-timeout": ("u", default_rollback_timeout),
        "memory-only": ("b", False),
        "dry-run": ("b", False),
    }


class ManagerInterface(ServiceInterface):
    def __init__(
        self,
        engine: Engine,
        backend: str,
        authorizer: Authorizer,
        *,
        default_rollback_timeout: int = 60,
    ) -> None:
        super().__init__(MANAGER_INTERFACE)
        self._engine = engine
        self._backend = backend
        self.authorizer = authorizer
        self._apply_options = apply_options(default_rollback_timeout)
        engine.on_jobs_changed.append(self._jobs_changed)

    def _jobs_changed(self) -> None:
        self.emit_properties_changed({"Jobs": self.Jobs, "QueueLength": self.QueueLength})

    # -- methods -----------------------------------------------------------------
    @dbus_method()
    @bus_method
    async def Show(self, options: DBusDict) -> DBusStr:
        opts = decode_options(options, SHOW_OPTIONS)
        if opts["format"] not in ("json", "yaml"):
            raise InvalidArgument(f"options.format: '{opts['format']}' is not one of json, yaml")
        state = await self._engine.show(
            ShowOptions(
                interfaces=tuple(opts["interfaces"]) if opts["interfaces"] is not None else None,
                running_config=opts["running-config"],
                kernel_only=opts["kernel-only"],
            )
        )
        return encode_state(state, opts["format"])

    @dbus_method()
    @bus_method
    @authorized
    async def Apply(self, state: DBusStr, options: DBusDict) -> DBusObjectPath:
        return job_path(self._submit(state, options).id)

    @dbus_method()
    @bus_method
    @authorized
    async def ApplyAndWait(self, state: DBusStr, options: DBusDict) -> DBusObjectPath:
        """Apply, and reply when the job has ended (or awaits commit, with commit=false)."""
        job = self._submit(state, options)
        await job.settled.wait()
        if job.ended and job.state != JobState.SUCCEEDED:
            raise ALL_KINDS.get(job.error_kind, InternalError)(job.error_message)
        return job_path(job.id)

    @dbus_method()
    @bus_method
    @authorized
    async def Commit(self, job: DBusObjectPath) -> NoValue:
        """Keep the changes of a job awaiting commit ('/' = the one pending)."""
        await self._engine.commit(self._pending_job(job))

    @dbus_method()
    @bus_method
    @authorized
    async def Rollback(self, job: DBusObjectPath) -> NoValue:
        """Undo the changes of a job awaiting commit ('/' = the one pending)."""
        await self._engine.rollback(self._pending_job(job))

    def _pending_job(self, path: str) -> Job:
        if path == LATEST_PENDING:
            pending = self._engine.pending_commit()
            if pending is None:
                raise Conflict("no job is awaiting commit")
            return pending
        job_id = job_id_of(path)
        found = self._engine.jobs.get(job_id)
        if found is None:
            raise InvalidArgument(f"no job {path} (unknown, or finished long ago and forgotten)")
        return found

    def _submit(self, text: str, options: dict[str, Any]) -> Job:
        opts = decode_options(options, self._apply_options)
        if not 1 <= opts["rollback-timeout"] <= MAX_ROLLBACK_TIMEOUT:
            raise InvalidArgument(
                f"options.rollback-timeout: {opts['rollback-timeout']} is not between 1 and "
                f"{MAX_ROLLBACK_TIMEOUT} seconds (0 would leave a checkpoint that never rolls "
                "back; a longer one would hold every other change back for that long)"
            )
        desired = NetworkState.from_dict(parse_state(text))
        request = ApplyRequest(
            verify=opts["verify"],
            commit=opts["commit"],
            rollback_timeout=opts["rollback-timeout"],
            memory_only=opts["memory-only"],
            dry_run=opts["dry-run"],
        )
        return self._engine.submit(desired, request, caller())

    # -- properties ----------------------------------------------------------------
    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusStr:
        return nmstated.__version__

    @dbus_property(access=PropertyAccess.READ)
    def Backend(self) -> DBusStr:
        return self._backend

    @dbus_property(access=PropertyAccess.READ)
    def QueueLength(self) -> DBusUInt32:
        return self._engine.queue_length

    @dbus_property(access=PropertyAccess.READ)
    def Jobs(self) -> Annotated[list[str], DBusSignature("ao")]:
        return [job_path(job_id) for job_id in sorted(self._engine.jobs)]

    # -- signals (nmstated/signals.py emits them) ------------------------------------
    @dbus_signal()
    def StateChanged(self, delta: str) -> DBusStr:
        """The kernel changed: JSON, nmstate-shaped, old → new (see docs/api.md)."""
        return delta

    @dbus_signal()
    def Resynced(self, reason: str) -> DBusStr:
        """Kernel events were lost and the state re-read; the StateChanged before it caught up."""
        return reason


# libyaml's emitter when PyYAML has it (same text, a third of the time).
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


_ROUTES_JSON = RoutesJson()  # entries of the routes view are reused (nmstated/reuse.py)


def encode_state(state: dict[str, Any], fmt: str) -> str:
    """Show's text.  JSON is written without indentation: only then does the json
    module use its C encoder (4x quicker on a large state); clients indent it.
    It is json.dumps(state), with the routes' text reused while they are unchanged."""
    if fmt == "yaml":
        return str(yaml.dump(state, Dumper=_YAML_DUMPER, sort_keys=False, default_flow_style=False))
    parts = (
        f"{json.dumps(key)}: "
        + (_ROUTES_JSON.dumps(value) if key == "routes" else json.dumps(value))
        for key, value in state.items()
    )
    return "{" + ", ".join(parts) + "}"

"""/org/nmstate — org.nmstate.Manager: Show and Apply.

Each method decodes its arguments, makes one engine call and encodes the
answer; errors are put on the wire by ``bus_method``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from dbus_fast.annotations import DBusDict, DBusObjectPath, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

import nmstated
from nmstated.current import ShowOptions
from nmstated.engine import ApplyRequest, Engine, Job, JobState
from nmstated.errors import ALL_KINDS, InternalError, InvalidArgument, NotImplementedByDaemon
from nmstated.model import NetworkState
from nmstated.schema import parse_state
from nmstated.service.boundary import bus_method, caller, decode_options
from nmstated.service.job import job_path

MANAGER_INTERFACE = "org.nmstate.Manager"
MANAGER_PATH = "/org/nmstate"

SHOW_OPTIONS = {
    "interfaces": ("as", None),
    "format": ("s", "json"),
    "running-config": ("b", False),
    "kernel-only": ("b", False),
}
APPLY_OPTIONS = {
    "verify": ("b", True),
    "commit": ("b", True),
    "rollback-timeout": ("u", 60),
    "memory-only": ("b", False),
    "dry-run": ("b", False),
}


class ManagerInterface(ServiceInterface):
    def __init__(self, engine: Engine, backend: str) -> None:
        super().__init__(MANAGER_INTERFACE)
        self._engine = engine
        self._backend = backend

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
    async def Apply(self, state: DBusStr, options: DBusDict) -> DBusObjectPath:
        return job_path(self._submit(state, options).id)

    @dbus_method()
    @bus_method
    async def ApplyAndWait(self, state: DBusStr, options: DBusDict) -> DBusObjectPath:
        """Apply, and reply only when the job has ended (for busctl and scripts)."""
        job = self._submit(state, options)
        await job.done.wait()
        if job.state != JobState.SUCCEEDED:
            raise ALL_KINDS.get(job.error_kind, InternalError)(job.error_message)
        return job_path(job.id)

    def _submit(self, text: str, options: dict[str, Any]) -> Job:
        opts = decode_options(options, APPLY_OPTIONS)
        desired = NetworkState.from_dict(parse_state(text))
        if not opts["commit"]:
            raise NotImplementedByDaemon(
                "option 'commit=false' is not implemented in this version yet"
            )
        request = ApplyRequest(
            verify=opts["verify"],
            rollback_timeout=opts["rollback-timeout"],
            memory_only=opts["memory-only"],
            dry_run=opts["dry-run"],
        )
        job = self._engine.submit(desired, request, caller())
        self.emit_properties_changed({"QueueLength": self._engine.queue_length})
        return job

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


def encode_state(state: dict[str, Any], fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(state, sort_keys=False, default_flow_style=False)
    return json.dumps(state, indent=2)

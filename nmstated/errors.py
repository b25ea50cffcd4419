"""The one error tree of nmstated.

Every failure a caller can see is an ``NmstateError``; its class names the
kind and the D-Bus error name, its message is one line a person can act on.
Anything else that escapes is a bug and becomes ``Internal`` at the bus edge.
"""

from __future__ import annotations

ERROR_PREFIX = "org.nmstate.Error."


class NmstateError(Exception):
    """Base of every error nmstated reports."""

    kind = "Internal"

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def dbus_name(self) -> str:
        return ERROR_PREFIX + self.kind


def _one_line(message: str) -> str:
    return " ".join(message.split())


class InvalidArgument(NmstateError):
    """The request cannot be parsed, fails the schema, or a value is wrong."""

    kind = "InvalidArgument"


class VerificationFailed(NmstateError):
    """After applying, the system does not match the desired state."""

    kind = "VerificationFailed"


class NotSupported(NmstateError):
    """The kernel or NetworkManager cannot do what was asked."""

    kind = "NotSupported"


class NotImplementedByDaemon(NmstateError):
    """A valid request this version of nmstated does not implement yet."""

    kind = "NotImplemented"


class Conflict(NmstateError):
    """Someone else holds what we need (e.g. a foreign checkpoint)."""

    kind = "Conflict"


class QueueFull(NmstateError):
    kind = "QueueFull"


class PermissionDenied(NmstateError):
    kind = "PermissionDenied"


class Timeout(NmstateError):
    kind = "Timeout"


class BackendError(NmstateError):
    """NetworkManager refused; the message quotes its reason."""

    kind = "Backend"


class Cancelled(NmstateError):
    kind = "Cancelled"


class InternalError(NmstateError):
    """A bug in nmstated; the traceback stays in the daemon's log."""

    kind = "Internal"


ALL_KINDS: dict[str, type[NmstateError]] = {
    cls.kind: cls
    for cls in (
        InvalidArgument,
        VerificationFailed,
        NotSupported,
        NotImplementedByDaemon,
        Conflict,
        QueueFull,
        PermissionDenied,
        Timeout,
        BackendError,
        Cancelled,
        InternalError,
    )
}

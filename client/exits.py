"""nmstatectl's exit codes (sysexits.h numbers) and how errors map to them."""

from __future__ import annotations

OK = 0
FAILED = 1
USAGE = 64
INVALID_INPUT = 65
NO_INPUT = 66
UNAVAILABLE = 69
PERMISSION = 77

# In the order the man page lists them.
MEANINGS = {
    OK: "success (for apply: the state is applied, verified and committed, or awaits commit "
    "with --no-commit)",
    FAILED: "the job failed; every change was rolled back unless the message says otherwise "
    "(for show: a NAME that is not a glob matches no interface)",
    USAGE: "wrong usage: unknown command or option, missing argument",
    INVALID_INPUT: "the input is invalid: not YAML/JSON, not the nmstate schema, a bad value, "
    "or an unknown job",
    NO_INPUT: "an input file cannot be read",
    UNAVAILABLE: "nmstated is unavailable, busy (queue full) or in conflict (a checkpoint that "
    "is not ours, nothing awaiting commit)",
    PERMISSION: "permission denied (polkit action org.nmstate.apply)",
}

ERROR_PREFIX = "org.nmstate.Error."

# org.nmstate.Error.<Kind> → exit code; any other kind is FAILED.
FOR_KIND = {
    "InvalidArgument": INVALID_INPUT,
    "Conflict": UNAVAILABLE,
    "QueueFull": UNAVAILABLE,
    "PermissionDenied": PERMISSION,
}

_BUS_ERRORS = {
    "org.freedesktop.DBus.Error.ServiceUnknown": UNAVAILABLE,
    "org.freedesktop.DBus.Error.NameHasNoOwner": UNAVAILABLE,
    "org.freedesktop.DBus.Error.NoReply": UNAVAILABLE,
    "org.freedesktop.DBus.Error.AccessDenied": PERMISSION,
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired": PERMISSION,
}


class ClientError(Exception):
    """One line for the user, and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def error_from_dbus(name: str, text: str) -> ClientError:
    if name.startswith(ERROR_PREFIX):
        return ClientError(text, FOR_KIND.get(name[len(ERROR_PREFIX) :], FAILED))
    code = _BUS_ERRORS.get(name, FAILED)
    if name in (
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ):
        return ClientError("nmstated is not running (no owner of org.nmstate)", code)
    if code == PERMISSION:
        return ClientError(f"permission denied: {text}", code)
    return ClientError(f"{text} ({name})", code)


def error_from_job(state: str, kind: str, message: str) -> ClientError:
    return ClientError(message or f"the job ended {state}", FOR_KIND.get(kind, FAILED))

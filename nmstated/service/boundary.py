"""What every bus method shares: errors become org.nmstate.Error.*, and who called.

``bus_method`` is the one place our errors are put on the wire.  Anything
that is not an ``NmstateError`` is a bug: it is logged with its traceback
here and the caller gets ``Internal`` with one line, never the traceback.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from dbus_fast import DBusError, Message, MessageFlag, MessageType
from dbus_fast.aio import MessageBus

from nmstated.errors import InternalError, InvalidArgument, NmstateError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent the method call being served."""

    name: str = ""  # unique bus name, e.g. ":1.42"
    # The caller set ALLOW_INTERACTIVE_AUTHORIZATION: it will wait while
    # polkit asks its user for a password.
    interactive: bool = False


# dbus-fast does not pass the message to service methods; a message handler
# runs just before each dispatch and the method's task inherits this context.
_UNKNOWN_CALLER = Caller()
_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("caller", default=_UNKNOWN_CALLER)


def track_callers(bus: MessageBus, path_prefix: str) -> None:
    def remember(msg: Message) -> None:
        if msg.message_type == MessageType.METHOD_CALL and (msg.path or "").startswith(path_prefix):
            interactive = bool(msg.flags & MessageFlag.ALLOW_INTERACTIVE_AUTHORIZATION)
            _caller.set(Caller(msg.sender or "", interactive))

    bus.add_message_handler(remember)


def caller() -> str:
    """The unique bus name of the caller of the method being served."""
    return _caller.get().name


def current_caller() -> Caller:
    return _caller.get()


def to_dbus_error(err: BaseException) -> DBusError:
    if isinstance(err, NmstateError):
        return DBusError(err.dbus_name, err.message)
    log.error("internal error serving a request", exc_info=err)
    internal = InternalError(f"internal error in nmstated ({type(err).__name__}); see its log")
    return DBusError(internal.dbus_name, internal.message)


def bus_method(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except DBusError:
            raise
        except Exception as err:
            raise to_dbus_error(err) from None

    return wrapper


OptionSpec = dict[str, tuple[str, Any]]


def decode_options(options: dict[str, Any], spec: OptionSpec) -> dict[str, Any]:
    """a{sv} options → plain values, with defaults; unknown keys or wrong types rejected."""
    decoded = {key: default for key, (_, default) in spec.items()}
    for key, variant in options.items():
        if key not in spec:
            known = ", ".join(sorted(spec))
            raise InvalidArgument(f"options: unknown option '{key}' (known: {known})")
        signature = spec[key][0]
        if variant.signature != signature:
            raise InvalidArgument(
                f"options.{key}: expected D-Bus type '{signature}', got '{variant.signature}'"
            )
        decoded[key] = variant.value
    return decoded

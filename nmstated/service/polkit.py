"""Who may change the network: polkit's ``org.nmstate.apply``, per caller.

Reads are open.  Every method that changes the network carries
``@authorized`` (one line, directly below ``@bus_method``).  The rule:

* uid 0 always passes (asked of the bus daemon, not of the caller);
* anyone else passes only if polkit says yes for the caller's bus name;
* with no polkit on the bus, only uid 0 passes.

polkit may ask the user for a password (``auth_admin_keep``) only when the
caller set ALLOW_INTERACTIVE_AUTHORIZATION on its call, as busctl and
systemd's tools do; otherwise a challenge is a refusal.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from nmstated.errors import PermissionDenied
from nmstated.service.boundary import current_caller

log = logging.getLogger(__name__)

APPLY_ACTION = "org.nmstate.apply"

POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
POLKIT_INTERFACE = "org.freedesktop.PolicyKit1.Authority"
# CheckAuthorization flags: let polkit ask the caller's authentication agent.
ALLOW_USER_INTERACTION = 0x1

# Errors meaning "polkit is not on this bus" (not installed, not activatable).
_NO_POLKIT = frozenset(
    {
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    }
)


class Authorizer:
    """Decides whether a caller, named by its unique bus name, may act."""

    def __init__(self, bus: MessageBus, action: str = APPLY_ACTION) -> None:
        self._bus = bus
        self.action = action

    async def check(self, sender: str, what: str, *, interactive: bool = False) -> None:
        """Return if *sender* may do *what*; raise ``PermissionDenied`` otherwise."""
        uid = await self._unix_user(sender, what)
        if uid == 0:
            return
        verdict = await self._ask_polkit(sender, interactive)
        if verdict is None:
            log.info("%s refused for uid %d (%s): polkit is not on the bus", what, uid, sender)
            raise PermissionDenied(
                f"{what} needs root: polkit is not running, so action '{self.action}' "
                f"cannot be granted to uid {uid}"
            )
        authorized, challenge = verdict
        if authorized:
            log.info("%s authorized by polkit for uid %d (%s)", what, uid, sender)
            return
        log.info("%s refused by polkit for uid %d (%s)", what, uid, sender)
        if challenge:
            how = (
                "no authentication agent answered"
                if interactive
                else "call it with interactive authorization allowed and an agent running"
            )
            raise PermissionDenied(
                f"{what} needs authentication for polkit action '{self.action}': {how}, or as root"
            )
        raise PermissionDenied(f"{what}: uid {uid} is not authorized for '{self.action}'")

    async def _unix_user(self, sender: str, what: str) -> int:
        if not sender:
            raise PermissionDenied(f"{what}: the caller is unknown")
        reply = await self._call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="GetConnectionUnixUser",
                signature="s",
                body=[sender],
            )
        )
        if reply.message_type == MessageType.ERROR:
            # Typically the caller left the bus before we could ask.
            raise PermissionDenied(f"{what}: cannot identify the caller {sender}")
        return int(reply.body[0])

    async def _ask_polkit(self, sender: str, interactive: bool) -> tuple[bool, bool] | None:
        """polkit's (authorized, challenge) for *sender*; None without polkit."""
        subject = ["system-bus-name", {"name": Variant("s", sender)}]
        flags = ALLOW_USER_INTERACTION if interactive else 0
        reply = await self._call(
            Message(
                destination=POLKIT_NAME,
                path=POLKIT_PATH,
                interface=POLKIT_INTERFACE,
                member="CheckAuthorization",
                signature="(sa{sv})sa{ss}us",
                body=[subject, self.action, {}, flags, ""],
            )
        )
        if reply.message_type == MessageType.ERROR:
            if reply.error_name in _NO_POLKIT:
                return None
            reason = reply.body[0] if reply.body else reply.error_name
            log.warning("polkit could not decide for %s: %s: %s", sender, reply.error_name, reason)
            return False, False
        authorized, challenge, _details = reply.body[0]
        return bool(authorized), bool(challenge)

    async def _call(self, message: Message) -> Message:
        reply = await self._bus.call(message)
        assert reply is not None  # only None for NO_REPLY_EXPECTED calls
        return reply


class Guarded(Protocol):
    """A bus object whose changing methods are authorized."""

    authorizer: Authorizer


S = TypeVar("S", bound=Guarded)
P = ParamSpec("P")
R = TypeVar("R")


def authorized(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """Let the method run only for callers its object's authorizer accepts."""

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        who = current_caller()
        await self.authorizer.check(who.name, method.__name__, interactive=who.interactive)
        return await method(self, *args, **kwargs)

    return wrapper

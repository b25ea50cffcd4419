"""The authorization rule, decided from the bus daemon's and polkit's answers.

The bus here is a stand-in answering GetConnectionUnixUser and
CheckAuthorization; tests/integration/test_authorization.py runs the same
rule against a real bus daemon and a real polkitd.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from dbus_fast import DBusError, Message

from nmstated.errors import PermissionDenied
from nmstated.service.boundary import Caller, _caller, bus_method
from nmstated.service.polkit import ALLOW_USER_INTERACTION, APPLY_ACTION, Authorizer, authorized


class StandInBus:
    def __init__(self, uid: int | None, polkit: tuple[bool, bool] | str | None) -> None:
        """*polkit*: (authorized, challenge), an error name, or None for "not on the bus"."""
        self.uid = uid
        self.polkit = polkit
        self.calls: list[Message] = []

    async def call(self, msg: Message) -> Message:
        self.calls.append(msg)
        msg.serial = len(self.calls)  # as the bus would number it, for the reply
        if msg.member == "GetConnectionUnixUser":
            if self.uid is None:
                return Message.new_error(msg, "org.freedesktop.DBus.Error.NameHasNoOwner", "gone")
            return Message.new_method_return(msg, "u", [self.uid])
        assert msg.member == "CheckAuthorization"
        if self.polkit is None:
            return Message.new_error(msg, "org.freedesktop.DBus.Error.ServiceUnknown", "none")
        if isinstance(self.polkit, str):
            return Message.new_error(msg, self.polkit, "polkit broke")
        authorized_, challenge = self.polkit
        return Message.new_method_return(msg, "(bba{ss})", [[authorized_, challenge, {}]])


def check(bus: StandInBus, *, interactive: bool = False) -> None:
    authorizer = Authorizer(bus)  # type: ignore[arg-type]
    asyncio.run(authorizer.check(":1.7", "Apply", interactive=interactive))


def test_root_passes_without_asking_polkit() -> None:
    bus = StandInBus(uid=0, polkit=None)
    check(bus)
    assert [m.member for m in bus.calls] == ["GetConnectionUnixUser"]
    assert bus.calls[0].body == [":1.7"]


def test_without_polkit_only_root_passes() -> None:
    with pytest.raises(PermissionDenied, match=r"^Apply needs root: polkit is not running"):
        check(StandInBus(uid=1000, polkit=None))


def test_polkit_is_asked_about_the_callers_bus_name() -> None:
    bus = StandInBus(uid=1000, polkit=(True, False))
    check(bus)
    ask = bus.calls[1]
    assert (ask.destination, ask.path, ask.interface) == (
        "org.freedesktop.PolicyKit1",
        "/org/freedesktop/PolicyKit1/Authority",
        "org.freedesktop.PolicyKit1.Authority",
    )
    subject, action, details, flags, cancellation = ask.body
    assert subject[0] == "system-bus-name" and subject[1]["name"].value == ":1.7"
    assert (action, details, flags, cancellation) == (APPLY_ACTION, {}, 0, "")


def test_polkit_may_prompt_only_when_the_caller_allows_it() -> None:
    bus = StandInBus(uid=1000, polkit=(True, False))
    check(bus, interactive=True)
    assert bus.calls[1].body[3] == ALLOW_USER_INTERACTION


@pytest.mark.parametrize(
    ("polkit", "message"),
    [
        ((False, False), r"^Apply: uid 1000 is not authorized for 'org.nmstate.apply'$"),
        ((False, True), r"^Apply needs authentication for polkit action 'org.nmstate.apply'"),
        ("org.freedesktop.PolicyKit1.Error.Failed", r"^Apply: uid 1000 is not authorized"),
    ],
)
def test_refusals(polkit: tuple[bool, bool] | str, message: str) -> None:
    with pytest.raises(PermissionDenied, match=message):
        check(StandInBus(uid=1000, polkit=polkit))


def test_a_challenge_says_what_the_caller_can_do() -> None:
    with pytest.raises(PermissionDenied, match=r": call it with interactive authorization allowed"):
        check(StandInBus(uid=1000, polkit=(False, True)))
    with pytest.raises(PermissionDenied, match=r": no authentication agent answered, or as root$"):
        check(StandInBus(uid=1000, polkit=(False, True)), interactive=True)


def test_a_caller_that_left_is_refused() -> None:
    with pytest.raises(PermissionDenied, match=r"^Apply: cannot identify the caller :1.7$"):
        check(StandInBus(uid=None, polkit=(True, False)))


class Guarded:
    def __init__(self, bus: StandInBus) -> None:
        self.authorizer = Authorizer(bus)  # type: ignore[arg-type]
        self.ran: list[Any] = []

    @bus_method
    @authorized
    async def Apply(self, state: str) -> str:
        self.ran.append(state)
        return "/org/nmstate/job/1"


def call_as(obj: Guarded, caller: Caller) -> str:
    async def run() -> str:
        _caller.set(caller)
        return await obj.Apply("{}")

    return asyncio.run(run())


def test_the_decorator_checks_the_current_caller_before_the_method_runs() -> None:
    bus = StandInBus(uid=1000, polkit=(False, False))
    obj = Guarded(bus)
    with pytest.raises(DBusError) as info:
        call_as(obj, Caller(":1.9", interactive=True))
    assert info.value.type == "org.nmstate.Error.PermissionDenied"
    assert info.value.text == "Apply: uid 1000 is not authorized for 'org.nmstate.apply'"
    assert obj.ran == []
    assert bus.calls[0].body == [":1.9"]
    assert bus.calls[1].body[3] == ALLOW_USER_INTERACTION


def test_the_decorator_lets_an_authorized_call_through() -> None:
    obj = Guarded(StandInBus(uid=0, polkit=None))
    assert call_as(obj, Caller(":1.9")) == "/org/nmstate/job/1"
    assert obj.ran == ["{}"]

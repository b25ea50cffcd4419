"""The bus edge: our errors on the wire, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from dbus_fast import DBusError, Variant

from nmstated.errors import ALL_KINDS, InvalidArgument, QueueFull
from nmstated.service.boundary import bus_method, decode_options


def run_raising(exc: Exception) -> DBusError:
    @bus_method
    async def method() -> str:
        raise exc

    with pytest.raises(DBusError) as info:
        asyncio.run(method())
    return info.value


def test_our_errors_keep_their_kind_and_message() -> None:
    err = run_raising(QueueFull("32 jobs are already waiting"))
    assert err.type == "org.nmstate.Error.QueueFull"
    assert err.text == "32 jobs are already waiting"


def test_a_bug_becomes_internal_with_one_line_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        err = run_raising(KeyError("secret detail"))
    assert err.type == "org.nmstate.Error.Internal"
    assert "\n" not in err.text and "secret detail" not in err.text
    assert "Traceback" not in err.text
    assert any(r.exc_info for r in caplog.records)


def test_messages_are_one_line() -> None:
    assert InvalidArgument("a\nb\n  c").message == "a b c"


def test_every_kind_has_its_dbus_name() -> None:
    for kind, cls in ALL_KINDS.items():
        assert cls("x").dbus_name == f"org.nmstate.Error.{kind}"


SPEC = {"verify": ("b", True), "rollback-timeout": ("u", 60)}


def test_options_defaults_and_values() -> None:
    assert decode_options({}, SPEC) == {"verify": True, "rollback-timeout": 60}
    assert decode_options({"verify": Variant("b", False)}, SPEC)["verify"] is False


def test_unknown_option_and_wrong_type_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match=r"unknown option .verfy."):
        decode_options({"verfy": Variant("b", False)}, SPEC)
    with pytest.raises(
        InvalidArgument,
        match=re.escape("options.rollback-timeout: expected D-Bus type 'u', got 's'"),
    ):
        decode_options({"rollback-timeout": Variant("s", "10")}, SPEC)

"""nmstatectl's own D-Bus marshalling, byte for byte against dbus-fast's."""

from __future__ import annotations

from typing import Any

import dbus_fast
import pytest
from dbus_fast import MessageType

from client import wire
from client.connection import unescape, unix_targets
from client.wire import Message, Variant

BODIES: list[tuple[str, list[Any]]] = [
    ("", []),
    ("s", ["héllo"]),
    ("o", ["/org/nmstate/job/3"]),
    ("sa{sv}", ["x", {"format": Variant("s", "json"), "dry-run": Variant("b", True)}]),
    ("a{sv}", [{"interfaces": Variant("as", ["eth1", "br*"]), "n": Variant("u", 7)}]),
    ("ybnqiuxtd", [255, False, -2, 3, -4, 5, -(2**40), 2**63, 1.5]),
    ("(ss)ao", [["Conflict", "busy"], ["/a", "/b/c"]]),
    ("a{sa{sv}}", [{"ipv4": {"method": Variant("s", "auto")}, "empty": {}}]),
    ("aai", [[[1, -2, 3], []]]),
    ("g", ["a{sv}"]),
    ("v", [Variant("(sat)", ["x", [1, 2]])]),
]


def to_fast(value: Any) -> Any:
    if isinstance(value, Variant):
        return dbus_fast.Variant(value.signature, to_fast(value.value))
    if isinstance(value, list):
        return [to_fast(v) for v in value]
    if isinstance(value, dict):
        return {k: to_fast(v) for k, v in value.items()}
    return value


def from_fast(value: Any) -> Any:
    if isinstance(value, dbus_fast.Variant):
        return Variant(value.signature, from_fast(value.value))
    if isinstance(value, list):
        return [from_fast(v) for v in value]
    if isinstance(value, dict):
        return {k: from_fast(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("signature", "body"), BODIES, ids=[b[0] or "empty" for b in BODIES])
def test_a_call_is_what_dbus_fast_writes(signature: str, body: list[Any]) -> None:
    ours = Message(
        wire.METHOD_CALL,
        serial=42,
        flags=wire.ALLOW_INTERACTIVE_AUTHORIZATION,
        destination="org.nmstate",
        path="/org/nmstate",
        interface="org.nmstate.Manager",
        member="Show",
        signature=signature,
        body=body,
    )
    theirs = dbus_fast.Message(
        destination="org.nmstate",
        path="/org/nmstate",
        interface="org.nmstate.Manager",
        member="Show",
        signature=signature,
        body=to_fast(body),
        serial=42,
        flags=dbus_fast.MessageFlag.ALLOW_INTERACTIVE_AUTHORIZATION,
    )
    assert wire.encode(ours) == bytes(theirs._marshall(False))


@pytest.mark.parametrize(("signature", "body"), BODIES, ids=[b[0] or "empty" for b in BODIES])
def test_a_reply_reads_as_dbus_fast_wrote_it(signature: str, body: list[Any]) -> None:
    raw = bytes(
        dbus_fast.Message(
            message_type=MessageType.METHOD_RETURN,
            reply_serial=9,
            serial=10,
            sender=":1.4",
            destination=":1.5",
            signature=signature,
            body=to_fast(body),
        )._marshall(False)
    )
    assert wire.message_size(raw[: wire.HEADER_SIZE]) == len(raw)
    msg = wire.decode(raw)
    assert (msg.kind, msg.serial, msg.reply_serial) == (wire.METHOD_RETURN, 10, 9)
    assert msg.destination == ":1.5"
    assert msg.signature == signature
    assert msg.body == from_fast(to_fast(body))


def test_big_endian_messages_are_read() -> None:
    # A signal as a big-endian peer would send it, written by hand.
    body = b"\x00\x00\x00\x03abc\x00"
    fields = (
        b"\x01\x01o\x00"
        + b"\x00\x00\x00\x02/x\x00"
        + b"\x00" * 5  # PATH, padded to 8
        + b"\x08\x01g\x00"
        + b"\x01s\x00"  # SIGNATURE
    )
    head = b"B\x04\x00\x01" + len(body).to_bytes(4, "big") + (7).to_bytes(4, "big")
    head += len(fields).to_bytes(4, "big") + fields
    raw = head + b"\x00" * (-len(head) % 8) + body
    msg = wire.decode(raw)
    assert (msg.kind, msg.serial, msg.path, msg.body) == (wire.SIGNAL, 7, "/x", ["abc"])


@pytest.mark.parametrize(
    "raw",
    [
        b"X\x01\x00\x01" + b"\x00" * 12,  # unknown byte order
        b"l\x01\x00\x01" + (2**31).to_bytes(4, "little") + b"\x00" * 8,  # too large
    ],
)
def test_malformed_headers_are_refused(raw: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.message_size(raw)


def test_unknown_signature_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.split_signature("a{sv")
    with pytest.raises(wire.WireError):
        wire.split_signature("z")


def test_bus_addresses() -> None:
    assert unix_targets("unix:path=/run/dbus/system_bus_socket") == ["/run/dbus/system_bus_socket"]
    assert unix_targets("tcp:host=x,port=1;unix:abstract=bus%2d1,guid=00") == [b"\0bus-1"]
    assert unix_targets("unix:path=/tmp/a%20b,guid=ab") == ["/tmp/a b"]
    assert unix_targets("launchd:env=X") == []
    assert unescape("%41%4a") == b"AJ"
    with pytest.raises(ValueError, match="bad escape"):
        unescape("%4")

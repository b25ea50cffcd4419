"""The D-Bus wire format: what nmstatectl needs to write and read messages.

A small, complete marshaller for the D-Bus type system (basic types,
arrays, dictionaries, structs, variants; no file descriptors), so the
one-shot commands need neither asyncio nor a D-Bus library: starting
Python with those costs several times what the call itself does.  For the
same reason the client's modules import neither ``typing`` nor
``dataclasses`` at run time (~25 ms together); the models are named tuples.
"""

from __future__ import annotations

import struct
from collections import namedtuple

TYPE_CHECKING = False  # mypy takes it as true; nothing is imported at run time
if TYPE_CHECKING:
    from typing import Any

# Message types and flags (D-Bus specification, "Message Format").
METHOD_CALL = 1
METHOD_RETURN = 2
ERROR = 3
SIGNAL = 4
NO_REPLY_EXPECTED = 0x1
ALLOW_INTERACTIVE_AUTHORIZATION = 0x4

# Header fields: code → (name, type).
_FIELDS = {
    1: ("path", "o"),
    2: ("interface", "s"),
    3: ("member", "s"),
    4: ("error_name", "s"),
    5: ("reply_serial", "u"),
    6: ("destination", "s"),
    7: ("sender", "s"),
    8: ("signature", "g"),
    9: ("unix_fds", "u"),
}
_FIELD_CODES = {name: (code, kind) for code, (name, kind) in _FIELDS.items()}

_FIXED = {
    "y": ("B", 1),
    "b": ("I", 4),
    "n": ("h", 2),
    "q": ("H", 2),
    "i": ("i", 4),
    "u": ("I", 4),
    "x": ("q", 8),
    "t": ("Q", 8),
    "d": ("d", 8),
    "h": ("I", 4),
}
_ALIGN = {**{code: size for code, (_, size) in _FIXED.items()}, "s": 4, "o": 4, "g": 1, "v": 1}
_ALIGN.update({"a": 4, "(": 8, "{": 8})
HEADER_SIZE = 16  # the fixed part; the header fields array's length is its last word
MAX_MESSAGE = 128 * 1024 * 1024


class WireError(ValueError):
    """A message that does not follow the D-Bus format."""


class Variant(namedtuple("Variant", "signature value")):
    """A value with its D-Bus type, as a variant (``v``) carries it."""

    __slots__ = ()


class Message:
    """One D-Bus message: its header fields and its body."""

    __slots__ = (
        "body",
        "destination",
        "error_name",
        "flags",
        "interface",
        "kind",
        "member",
        "path",
        "reply_serial",
        "sender",
        "serial",
        "signature",
    )

    def __init__(
        self,
        kind: int,
        serial: int = 0,
        flags: int = 0,
        *,
        path: str | None = None,
        interface: str | None = None,
        member: str | None = None,
        error_name: str | None = None,
        reply_serial: int | None = None,
        destination: str | None = None,
        sender: str | None = None,
        signature: str = "",
        body: list[Any] | None = None,
    ) -> None:
        self.kind = kind
        self.serial = serial
        self.flags = flags
        self.path = path
        self.interface = interface
        self.member = member
        self.error_name = error_name
        self.reply_serial = reply_serial
        self.destination = destination
        self.sender = sender
        self.signature = signature
        self.body = body if body is not None else []

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Message({fields})"


# -- signatures -----------------------------------------------------------------
def split_signature(signature: str) -> list[str]:
    """``"sa{sv}"`` → ``["s", "a{sv}"]``: the complete types, in order."""
    types = []
    start = 0
    while start < len(signature):
        end = _type_end(signature, start)
        types.append(signature[start:end])
        start = end
    return types


def _type_end(signature: str, start: int) -> int:
    code = signature[start]
    if code == "a":
        return _type_end(signature, start + 1)
    if code in "({":
        close = ")" if code == "(" else "}"
        index = start + 1
        while signature[index] != close:
            index = _type_end(signature, index)
            if index >= len(signature):
                raise WireError(f"unbalanced signature {signature!r}")
        return index + 1
    if code not in _ALIGN or code in ")}":
        raise WireError(f"unknown type {code!r} in signature {signature!r}")
    return start + 1


# -- writing ----------------------------------------------------------------------
class _Writer:
    def __init__(self, buffer: bytearray | None = None) -> None:
        self.buf = buffer if buffer is not None else bytearray()

    def align(self, boundary: int) -> None:
        self.buf.extend(b"\0" * (-len(self.buf) % boundary))

    def write(self, kind: str, value: Any) -> None:
        code = kind[0]
        if code in _FIXED:
            fmt, size = _FIXED[code]
            self.align(size)
            self.buf.extend(struct.pack("<" + fmt, int(value) if code == "b" else value))
        elif code in "so":
            data = str(value).encode()
            self.write("u", len(data))
            self.buf.extend(data + b"\0")
        elif code == "g":
            data = str(value).encode()
            self.buf.append(len(data))
            self.buf.extend(data + b"\0")
        elif code == "v":
            if not isinstance(value, Variant):
                raise WireError(f"a variant needs a Variant, not {type(value).__name__}")
            self.write("g", value.signature)
            self.write(value.signature, value.value)
        elif code == "a":
            self._array(kind[1:], value)
        elif code == "(":
            self.align(8)
            for member, item in zip(split_signature(kind[1:-1]), value, strict=True):
                self.write(member, item)
        else:
            raise WireError(f"cannot write type {kind!r}")

    def _array(self, element: str, value: Any) -> None:
        self.align(4)
        at = len(self.buf)
        self.buf.extend(b"\0\0\0\0")
        self.align(_ALIGN[element[0]])
        start = len(self.buf)
        if element[0] == "{":
            key, item = split_signature(element[1:-1])
            for k, v in value.items():
                self.align(8)
                self.write(key, k)
                self.write(item, v)
        else:
            for item in value:
                self.write(element, item)
        struct.pack_into("<I", self.buf, at, len(self.buf) - start)


def encode(message: Message) -> bytes:
    """The message as bytes (little-endian)."""
    body = _Writer()
    for kind, value in zip(split_signature(message.signature), message.body, strict=True):
        body.write(kind, value)
    fields = []
    for name, (code, kind) in _FIELD_CODES.items():
        value = message.signature if name == "signature" else getattr(message, name, None)
        if value:
            fields.append((code, Variant(kind, value)))
    header = _Writer(bytearray(b"l"))
    header.buf.extend(
        struct.pack("<BBBII", message.kind, message.flags, 1, len(body.buf), message.serial)
    )
    header.write("a(yv)", fields)
    header.align(8)
    return bytes(header.buf + body.buf)


# -- reading ----------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes, offset: int, little: bool) -> None:
        self.data = data
        self.pos = offset
        self.order = "<" if little else ">"

    def align(self, boundary: int) -> None:
        self.pos += -self.pos % boundary

    def _unpack(self, fmt: str, size: int) -> Any:
        if self.pos + size > len(self.data):
            raise WireError("message ends early")
        (value,) = struct.unpack_from(self.order + fmt, self.data, self.pos)
        self.pos += size
        return value

    def read(self, kind: str) -> Any:
        code = kind[0]
        if code in _FIXED:
            fmt, size = _FIXED[code]
            self.align(size)
            value = self._unpack(fmt, size)
            return bool(value) if code == "b" else value
        if code in "so":
            length = self.read("u")
            return self._text(length)
        if code == "g":
            return self._text(self._unpack("B", 1))
        if code == "v":
            signature = self.read("g")
            return Variant(signature, self.read(signature))
        if code == "a":
            return self._array(kind[1:])
        if code == "(":
            self.align(8)
            return [self.read(member) for member in split_signature(kind[1:-1])]
        raise WireError(f"cannot read type {kind!r}")

    def _text(self, length: int) -> str:
        end = self.pos + length
        if end >= len(self.data) or self.data[end] != 0:
            raise WireError("a string is not terminated")
        text = self.data[self.pos : end].decode()
        self.pos = end + 1
        return text

    def _array(self, element: str) -> Any:
        length = self.read("u")
        self.align(_ALIGN[element[0]])
        end = self.pos + length
        if end > len(self.data):
            raise WireError("an array runs past the message")
        if element[0] == "{":
            key, item = split_signature(element[1:-1])
            out: dict[Any, Any] = {}
            while self.pos < end:
                self.align(8)
                k = self.read(key)
                out[k] = self.read(item)
            return out
        items = []
        while self.pos < end:
            items.append(self.read(element))
        return items


def message_size(head: bytes) -> int:
    """The whole message's length, from its first HEADER_SIZE bytes."""
    little = _byte_order(head)
    order = "<" if little else ">"
    (body_length,) = struct.unpack_from(order + "I", head, 4)
    (fields_length,) = struct.unpack_from(order + "I", head, 12)
    header = HEADER_SIZE + fields_length
    size = header + (-header % 8) + body_length
    if size > MAX_MESSAGE:
        raise WireError(f"a message of {size} bytes is larger than D-Bus allows")
    return int(size)


def decode(data: bytes) -> Message:
    """One whole message (as long as ``message_size`` said)."""
    little = _byte_order(data)
    kind, flags, _version = data[1], data[2], data[3]
    reader = _Reader(data, 8, little)
    serial = reader.read("u")
    message = Message(kind=kind, serial=serial, flags=flags)
    for code, value in reader.read("a(yv)"):
        if code in _FIELDS:
            setattr(message, _FIELDS[code][0], value.value)
    reader.align(8)
    message.body = [reader.read(kind) for kind in split_signature(message.signature)]
    return message


def _byte_order(head: bytes) -> bool:
    if head[:1] == b"l":
        return True
    if head[:1] == b"B":
        return False
    raise WireError(f"unknown byte order {head[:1]!r}")

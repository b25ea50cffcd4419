"""Strict text -> Python value loader for desired state (YAML or JSON).

Nothing here changes what the user wrote without saying so.

YAML rule (the YAML 1.1 ambiguities)
------------------------------------
PyYAML follows YAML 1.1, where ``yes``/``on`` are booleans, ``024`` is octal 20,
``0x1f`` is 31 and ``12:34:56`` is a base-60 integer.  This loader resolves no
implicit types at all.  Every *plain* (unquoted) scalar becomes a
:class:`PlainScalar`: a ``str`` holding the exact source text, plus ``core``, its
meaning under a deliberately small YAML 1.2 core schema:

* ``null``/``Null``/``NULL``/``~``/empty -> ``None``
* ``true``/``false`` (and the Title/UPPER spellings) -> ``bool``
  (``yes``/``no``/``on``/``off``/``y``/``n`` stay text)
* decimal integers without a leading zero (``0``, ``-12``, ``1500``) -> ``int``
  (``024``, ``0x1f``, ``0o17``, ``1_000``, ``1:30`` stay text)
* decimal floats without a leading zero (``1.5``, ``0.5``, ``1e3``) -> ``float``

The schema then decides (see ``nmstated.schema.validate``): where the schema
allows the core type, the core value is used; where it wants a string, the
source text is used exactly as written (``name: 1234`` -> ``"1234"``,
``mac-address: 12:34:56:00:00:01`` stays that text); where it wants an integer
or a boolean and the text is not a core integer/boolean (``024``, ``0x1f``,
``yes``), the value is rejected with a message naming the field and saying what
to write instead.  Nothing ambiguous is ever accepted.  ``null`` stays ``null``.

Also rejected, each reported with its line: tabs or no-break spaces (U+00A0)
in indentation, a no-break space inside an unquoted value, duplicate keys,
tags other than ``!!str``/``!!int``/``!!bool``/``!!float``/``!!null``/
``!!map``/``!!seq``, several documents, an empty document, and nesting deeper
than :data:`MAX_DEPTH`.  Anchors and aliases (``&x``/``*x``) are accepted, as
PyYAML's dumper writes them for shared objects; an alias must follow its
anchor's complete value (so nothing is recursive) and the document, aliases
expanded, may hold at most :data:`MAX_VALUES` values.  Merge keys (``<<``)
are not supported (``<<`` is an unknown key).

JSON rule
---------
Text whose first non-blank character is ``{`` is JSON and nothing else: it is
read by the standard ``json`` scanner with a duplicate-key check (reported by
line) and ``NaN``/``Infinity`` rejected.  JSON values are typed already, so
``"name": 1234`` in JSON is a number and fails the schema.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from nmstated.errors import InvalidArgument

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT",
    "MAX_VALUES",
    "EmptyDocument",
    "PlainScalar",
    "StrictLoader",
    "core_value",
    "load_text",
]

#: Deepest nesting accepted (the nmstate schema needs about 8 levels).
MAX_DEPTH = 32
#: Most values a YAML document may hold with its aliases expanded.
MAX_VALUES = 50_000
#: Largest document accepted, in characters.
MAX_TEXT = 16 * 1024 * 1024

NBSP = "\u00a0"

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_CORE_TAGS = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null",
}

_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})


class EmptyDocument(Exception):
    """Raised inside the loader when the stream holds no value."""


def core_value(text: str) -> Any:
    """The meaning of a plain scalar under the small YAML 1.2 core schema above."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT_RE.match(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts; keep the text
            return text
    if _FLOAT_RE.match(text):
        return float(text)
    return text


class PlainScalar(str):
    """An unquoted YAML scalar: the text as written, its core meaning and its line.

    It is a ``str`` so that it can stand in for the text; the validator replaces
    it by ``core`` or by a plain ``str`` once it knows what the schema expects.
    """

    core: Any
    line: int

    def __new__(cls, text: str, line: int) -> PlainScalar:
        self = super().__new__(cls, text)
        self.core = core_value(text)
        self.line = line
        return self


class _Fatal(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _StrictComposer:
    """Builds Python values straight from parser events, strictly.

    Mixed into a PyYAML loader class; only its event methods (``get_event``,
    ``peek_event``, ``check_event``) are used, so the same code runs on the
    pure-Python parser and on libyaml's.  No implicit type resolution happens
    here: plain scalars become :class:`PlainScalar`.  Problems that do not stop
    reading (duplicate keys, unsupported tags, NBSP in a value) are collected
    in ``problems`` as ``(line, message)``.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's own attribute

    def load_single(self) -> Any:
        """The one document's value; fatal if there are none or several."""
        events: Any = self  # PyYAML's parser methods are untyped
        self.problems: list[tuple[int, str]] = []
        self._anchors: dict[str, tuple[Any, int]] = {}
        self._count = 0
        events.get_event()  # STREAM-START
        if events.check_event(StreamEndEvent):
            raise EmptyDocument
        events.get_event()  # DOCUMENT-START
        value = self._value(1)
        events.get_event()  # DOCUMENT-END
        if not events.check_event(StreamEndEvent):
            raise _Fatal(
                _line(events.peek_event().start_mark),
                "a second YAML document (send exactly one)",
            )
        return value

    def _problem(self, event: Any, message: str) -> None:
        self.problems.append((_line(event.start_mark) or 0, message))

    def _value(self, depth: int) -> Any:
        events: Any = self
        event = events.get_event()
        if depth > MAX_DEPTH:
            raise _Fatal(_line(event.start_mark), "the document is nested too deeply")
        if isinstance(event, AliasEvent):
            found = self._anchors.get(event.anchor or "")
            if found is None:
                raise _Fatal(
                    _line(event.start_mark),
                    f"alias *{event.anchor} does not follow a complete &{event.anchor}",
                )
            value, size = found
            self._counted(event, size)
            return value
        start = self._count
        self._counted(event, 1)
        value = self._node(event, depth)
        if event.anchor is not None:
            self._anchors[event.anchor] = (value, self._count - start)
        return value

    def _counted(self, event: Any, size: int) -> None:
        self._count += size
        if self._count > MAX_VALUES:
            raise _Fatal(
                _line(event.start_mark),
                f"the document holds more than {MAX_VALUES} values (aliases expanded)",
            )

    def _node(self, event: Any, depth: int) -> Any:
        events: Any = self
        if isinstance(event, ScalarEvent):
            return self._scalar(event)
        if isinstance(event, SequenceStartEvent):
            if event.tag not in (None, "!", _SEQ_TAG):
                self._problem(event, f"tag {event.tag!r} is not supported")
            items = []
            while not events.check_event(SequenceEndEvent):
                items.append(self._value(depth + 1))
            events.get_event()
            return items
        if isinstance(event, MappingStartEvent):
            if event.tag not in (None, "!", _MAP_TAG):
                self._problem(event, f"tag {event.tag!r} is not supported")
            return self._mapping(depth)
        raise _Fatal(_line(event.start_mark), "unexpected YAML event")  # pragma: no cover

    def _mapping(self, depth: int) -> dict[str, Any]:
        events: Any = self
        result: dict[str, Any] = {}
        while not events.check_event(MappingEndEvent):
            key_event = events.peek_event()
            key = self._value(depth + 1)
            value = self._value(depth + 1)
            if not isinstance(key_event, ScalarEvent):
                self._problem(key_event, "a key must be a single word, not a list or mapping")
            elif key in result:
                self._problem(key_event, f"duplicate key {_short(key)}")
            else:
                result[str(key)] = value
        events.get_event()
        return result

    def _scalar(self, event: ScalarEvent) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None and event.implicit[0]:
            if NBSP in text:
                self._problem(
                    event, f"no-break space (U+00A0) in {_short(text)} (use a normal space)"
                )
            return PlainScalar(text, _line(event.start_mark) or 0)
        if tag in (None, "!", _STR_TAG):
            return text
        if tag in _CORE_TAGS:
            value = core_value(text)
            wanted = _CORE_TAGS[tag]
            ok = {
                "an integer": isinstance(value, int) and not isinstance(value, bool),
                "true or false": isinstance(value, bool),
                "a number": isinstance(value, int | float) and not isinstance(value, bool),
                "null": value is None,
            }[wanted]
            if not ok:
                self._problem(event, f"{_short(text)} tagged {tag!r} is not {wanted}")
                return text
            return float(value) if wanted == "a number" else value
        self._problem(event, f"tag {tag!r} is not supported")
        return text


class StrictLoader(_StrictComposer, yaml.SafeLoader):
    """yaml.SafeLoader with no implicit resolvers, composing via :class:`_StrictComposer`."""


if yaml.__with_libyaml__:

    class StrictCLoader(_StrictComposer, yaml.CSafeLoader):
        """The same on libyaml's parser (about 15 times faster)."""

    _FAST_LOADER: type[_StrictComposer] = StrictCLoader
else:  # pragma: no cover - PyYAML without libyaml
    _FAST_LOADER = StrictLoader


def _line(mark: Any) -> int | None:
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


def _short(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return repr(text)


def _fmt(line: int | None, message: str) -> str:
    return f"line {line}: {message}" if line else message


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


def _indent_problems(text: str) -> list[str]:
    problems = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        stripped = line.lstrip(" \t" + NBSP)
        if not stripped:
            continue
        indent = line[: len(line) - len(stripped)]
        if "\t" in indent:
            problems.append(_fmt(number, "tab in indentation"))
        if NBSP in indent:
            problems.append(_fmt(number, "no-break space (U+00A0) in indentation"))
    return problems


def _load_yaml(
    text: str, loader_class: Callable[[str], Any] = _FAST_LOADER
) -> tuple[Any, list[str]]:
    problems = _indent_problems(text)
    if problems:
        raise InvalidArgument("; ".join(problems))
    loader: Any = loader_class(text)
    try:
        value = loader.load_single()
    except EmptyDocument:
        raise _empty() from None
    except _Fatal as exc:
        raise InvalidArgument(_fmt(exc.line, exc.message)) from None
    except yaml.MarkedYAMLError as exc:
        what = exc.problem or exc.context or "not valid YAML"
        raise InvalidArgument(_fmt(_line(exc.problem_mark), f"invalid YAML: {what}")) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InvalidArgument(
            _fmt(line, f"character {char!r} is not allowed in YAML text")
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML's other errors are all marked
        raise InvalidArgument(f"invalid YAML: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()
    if value is None or (isinstance(value, PlainScalar) and value.core is None):
        raise _empty()
    messages = [_fmt(line, message) for line, message in sorted(loader.problems)]
    return value, messages


def _empty() -> InvalidArgument:
    return InvalidArgument(
        "top level: the document is empty, expected a mapping with keys like 'interfaces'"
    )


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_json_decoder_module: Any = json.decoder  # typeshed omits its scanstring


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _json_decoder(duplicates: list[tuple[int, str]]) -> json.JSONDecoder:
    """A pure-Python JSON decoder whose objects report duplicate keys by line."""
    whitespace = _JSON_SPACE.match
    scanstring: Callable[[str, int, bool], tuple[str, int]] = _json_decoder_module.scanstring
    depth = [0]

    def skip(s: str, end: int) -> int:
        match = whitespace(s, end)
        return match.end() if match else end

    def parse_object(
        s_and_end: tuple[str, int],
        strict: bool,
        scan_once: Callable[[str, int], tuple[Any, int]],
        *_: Any,
    ) -> tuple[dict[str, Any], int]:
        s, end = s_and_end
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise json.JSONDecodeError("the document is nested too deeply", s, end)
        try:
            result: dict[str, Any] = {}
            end = skip(s, end)
            if s[end : end + 1] == "}":
                return result, end + 1
            while True:
                if s[end : end + 1] != '"':
                    raise json.JSONDecodeError(
                        "Expecting property name enclosed in double quotes", s, end
                    )
                key_at = end
                key, end = scanstring(s, end + 1, strict)
                end = skip(s, end)
                if s[end : end + 1] != ":":
                    raise json.JSONDecodeError("Expecting ':' delimiter", s, end)
                end = skip(s, end + 1)
                try:
                    value, end = scan_once(s, end)
                except StopIteration as err:
                    raise json.JSONDecodeError("Expecting value", s, err.value) from None
                if key in result:
                    duplicates.append((s.count("\n", 0, key_at) + 1, key))
                else:
                    result[key] = value
                end = skip(s, end)
                char = s[end : end + 1]
                if char == "}":
                    return result, end + 1
                if char != ",":
                    raise json.JSONDecodeError("Expecting ',' delimiter", s, end)
                end = skip(s, end + 1)
        finally:
            depth[0] -= 1

    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def _load_json(text: str) -> tuple[Any, list[str]]:
    duplicates: list[tuple[int, str]] = []
    decoder = _json_decoder(duplicates)
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(
            _fmt(exc.lineno, f"invalid JSON: {exc.msg} (text starting with '{{' is read as JSON)")
        ) from None
    except ValueError as exc:  # NaN/Infinity, or a number too long to convert
        raise InvalidArgument(f"invalid JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:  # pragma: no cover - arrays nested past the interpreter limit
        raise InvalidArgument("the document is nested too deeply") from None
    messages = [_fmt(line, f"duplicate key {_short(key)}") for line, key in duplicates]
    return value, messages


def _unencodable(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        return _fmt(line, f"character {text[exc.start]!r} is not valid text")
    return None


def load_text(text: str) -> tuple[Any, list[str]]:
    """Read YAML or JSON text.

    Returns the value (plain YAML scalars as :class:`PlainScalar`) and the
    problems that did not stop reading (e.g. duplicate keys), each formatted
    ``line N: ...``.  Raises ``InvalidArgument`` when the text cannot be read
    at all.
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"top level: expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise InvalidArgument(f"top level: the document is larger than {MAX_TEXT} characters")
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _unencodable(text)
    if bad:
        raise InvalidArgument(bad)
    if text.lstrip(" \t\r\n").startswith("{"):
        return _load_json(text)
    return _load_yaml(text)

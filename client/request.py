"""What a desired state asks for, as far as nmstatectl needs to know to print the result.

``apply`` prints the sections of the current state that a request touched,
so it needs the request's top-level sections and the interfaces it names.
Importing PyYAML costs ~15 ms, a quarter of a whole ``nmstatectl apply``,
so JSON is read with ``json`` and the YAML people and
``nmstatectl show`` write — block style, flow collections on one line — with
the small reader below.  Anything it does not fully understand (anchors,
tags, block scalars, escapes, a flow collection over several lines…) is read
by PyYAML instead, resolving no implicit types, as nmstated's loader does
(``name: 1234`` is the name "1234").
"""

from __future__ import annotations

import json
import re
from collections import namedtuple

TYPE_CHECKING = False  # see client/wire.py: no typing import at run time
if TYPE_CHECKING:
    from typing import Any

#: The largest state nmstated accepts, in characters (nmstated/schema/loader.py
#: MAX_TEXT; the client never imports the daemon, a unit test keeps them equal).
MAX_STATE_CHARS = 16 * 1024 * 1024

#: Top-level sections, in the order nmstated's Show writes them.
SECTIONS = ("hostname", "dns-resolver", "route-rules", "routes", "interfaces")


class Request(namedtuple("Request", "sections names route_names all_routes_named")):
    """*sections*: the known top-level sections present, in Show's order; *names*:
    the interfaces listed; *route_names*: interfaces used by the routes and rules
    listed; *all_routes_named*: every route listed names its next-hop-interface."""

    __slots__ = ()


def read_request(text: str) -> Request:
    """The summary of a state nmstated accepted (so it parses)."""
    data = _load(text)
    if not isinstance(data, dict):
        return Request((), (), (), True)
    sections = tuple(key for key in SECTIONS if key in data)
    names = _unique(_values(data.get("interfaces"), None, "name"))
    routes = _entries(data.get("routes"))
    route_names = _unique(
        _values(routes, None, "next-hop-interface")
        + _values(data.get("route-rules"), "config", "iif")
    )
    all_named = all(isinstance(r, dict) and "next-hop-interface" in r for r in routes)
    return Request(sections, names, route_names, all_named)


def _load(text: str) -> Any:
    if text.lstrip().startswith("{"):  # JSON, as nmstated decides it
        try:
            return json.loads(text)
        except ValueError:
            return None
    data = simple_block_yaml(text)
    if data is not None:
        return data
    import yaml  # only for YAML the reader above does not take

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # every scalar stays text
    try:
        return yaml.load(text, Loader=loader)  # BaseLoader builds no objects
    except yaml.YAMLError:
        return None


def _entries(section: Any, key: str | None = "config") -> list[Any]:
    value = section.get(key) if isinstance(section, dict) and key else section
    return value if isinstance(value, list) else []


def _values(section: Any, key: str | None, field: str) -> list[str]:
    return [
        str(entry[field])
        for entry in _entries(section, key)
        if isinstance(entry, dict) and isinstance(entry.get(field), (str, int))
    ]


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


# -- the YAML people write: block style, one-line flow collections -----------------
class _NotSimple(ValueError):
    """The text uses YAML this reader leaves to PyYAML."""


_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?: +(.*))?")
_PLAIN = re.compile(r"[A-Za-z0-9_./(+~$][A-Za-z0-9_./()+~$=@%,:; -]*")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"\\]*)\"")
_TEXT_ONLY_KEYS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def simple_block_yaml(text: str) -> Any:
    """*text* read as YAML, every scalar as its text; None if it uses more than this reader knows.

    Understood: block mappings and sequences (indented or not), comments,
    plain scalars of ordinary characters, quoted scalars without escapes,
    flow collections on one line, a leading ``---``.  Anything else,
    including invalid YAML, gives None."""
    if not text.isascii() or "\t" in text or "\r" in text:
        return None
    try:
        lines = _lines(text)
        if not lines:
            return None
        reader = _BlockReader(lines)
        value = reader.node(0)
        if reader.pos != len(lines):
            return None
        return value
    except _NotSimple:
        return None


def _lines(text: str) -> list[tuple[int, str]]:
    """(indent, content) of each line that holds something, comments removed."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n")):
        if "'" in raw or '"' in raw:
            content = raw  # a quote may hide a '#': the scalar reader checks it all
            if "#" in raw:
                raise _NotSimple
        else:
            hash_at = raw.find("#")
            while hash_at > 0 and raw[hash_at - 1] != " ":
                hash_at = raw.find("#", hash_at + 1)
            content = raw if hash_at < 0 else raw[:hash_at]
        content = content.rstrip()
        if not content:
            continue
        if content == "---" and number == 0:
            continue
        if content.startswith(("---", "...", "%")):
            raise _NotSimple
        stripped = content.lstrip(" ")
        lines.append((len(content) - len(stripped), stripped))
    return lines


class _BlockReader:
    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.pos = 0

    def node(self, indent: int) -> Any:
        """The collection whose first line is the current one, at *indent*."""
        at, content = self.lines[self.pos]
        if at != indent:
            raise _NotSimple
        if content == "-" or content.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.pos < len(self.lines):
            at, content = self.lines[self.pos]
            if at < indent:
                break
            if at > indent or content == "-" or content.startswith("- "):
                raise _NotSimple
            match = _KEY.fullmatch(content)
            if match is None or match[1] in result or match[1].lower() in _TEXT_ONLY_KEYS:
                raise _NotSimple
            self.pos += 1
            result[match[1]] = (
                scalar(match[2]) if match[2] is not None else self.value_below(indent, True)
            )
        return result

    def sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        while self.pos < len(self.lines):
            at, content = self.lines[self.pos]
            if at < indent or (at == indent and not (content == "-" or content[:2] == "- ")):
                break
            if at > indent:
                raise _NotSimple
            if content == "-":
                self.pos += 1
                result.append(self.value_below(indent, False))
                continue
            rest = content[2:]
            inner = rest.lstrip(" ")
            if _KEY.fullmatch(inner) or inner == "-" or inner.startswith("- "):
                # "- key: value" or "- - x": a collection starting on this line.
                self.lines[self.pos] = (indent + len(content) - len(inner), inner)
                result.append(self.node(self.lines[self.pos][0]))
            else:
                self.pos += 1
                result.append(scalar(inner))
        return result

    def value_below(self, indent: int, in_mapping: bool) -> Any:
        """The value of an entry with nothing after its ':' or '-': the lines below, or ""."""
        if self.pos == len(self.lines):
            return ""  # an empty scalar: null, which BaseLoader (like us) keeps as text
        at, content = self.lines[self.pos]
        if at > indent:
            return self.node(at)
        # A mapping's value may be a sequence at the key's own indentation.
        if in_mapping and at == indent and (content == "-" or content.startswith("- ")):
            return self.sequence(indent)
        return ""


def scalar(text: str) -> Any:
    """A one-line value, every scalar as its text (no implicit types, as nmstated reads them)."""
    if text[:1] in ("[", "{"):
        return _FlowReader(text).whole()
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return quoted[1] if quoted[1] is not None else quoted[2]
    if _PLAIN.fullmatch(text) and ": " not in text and not text.endswith(":"):
        return text
    raise _NotSimple


# One piece of a one-line flow collection: an indicator, a ':' that separates, a
# quoted scalar, or a plain one (it ends before ' #', ',', brackets or ': ').
# Compiled when first needed: it costs ~2 ms, and most input has no flow.
_FLOW_PIECE = (
    r" *(?:(?P<mark>[\[\]{},])|(?P<colon>:)(?=[ ,\[\]{}]|$)"
    r"|'(?P<single>[^']*)'|\"(?P<double>[^\"\\]*)\""
    r"|(?P<plain>[^ ,\[\]{}][^,\[\]{}]*?)(?= *(?:[,\[\]{}]|:(?:[ ,\[\]{}]|$)|$)))"
)


class _FlowReader:
    """``[a, b]`` and ``{k: v}`` on one line, nested, every scalar as its text."""

    def __init__(self, text: str) -> None:
        self.pieces: list[tuple[str, str]] = []
        piece = re.compile(_FLOW_PIECE)  # re caches it for the next collection
        pos = 0
        while pos < len(text):
            match = piece.match(text, pos)
            if match is None or match.end() == pos:
                raise _NotSimple
            pos = match.end()
            if match["mark"] or match["colon"]:
                self.pieces.append((match["mark"] or ":", ""))
            elif match["plain"] is not None:
                self.pieces.append(("text", scalar(match["plain"])))
            else:
                single = match["single"]
                self.pieces.append(("text", single if single is not None else match["double"]))
        self.pos = 0

    def whole(self) -> Any:
        value = self.value()
        if self.pos != len(self.pieces):
            raise _NotSimple
        return value

    def take(self) -> tuple[str, str]:
        if self.pos == len(self.pieces):
            raise _NotSimple
        self.pos += 1
        return self.pieces[self.pos - 1]

    def comes(self, kind: str) -> bool:
        return self.pos < len(self.pieces) and self.pieces[self.pos][0] == kind

    def next_is(self, kind: str) -> bool:
        """Take the next piece if it is *kind*."""
        if self.comes(kind):
            self.pos += 1
            return True
        return False

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "text":
            return text
        if kind == "[":
            items: list[Any] = []
            while not self.next_is("]"):
                items.append(self.value())
                if not self.next_is(",") and not self.comes("]"):
                    raise _NotSimple
            return items
        if kind == "{":
            mapping: dict[str, Any] = {}
            while not self.next_is("}"):
                key_kind, key = self.take()
                if key_kind != "text" or key in mapping or not self.next_is(":"):
                    raise _NotSimple
                mapping[key] = self.value()
                if not self.next_is(",") and not self.comes("}"):
                    raise _NotSimple
            return mapping
        raise _NotSimple

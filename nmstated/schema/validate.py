"""Schema validation with readable paths, and the semantic checks.

Every problem is reported as ``<path>: <what is wrong>`` where the path looks
like ``interfaces[2].ipv4.address[0].prefix-length`` (``top level`` for the
document itself).  All problems of one request are collected and reported
together, sorted in document order.

The checks run in three steps:

1. ``normalize`` copies the value into plain JSON types, choosing for every
   unquoted YAML scalar either its core value or its source text by what the
   schema expects there (see ``nmstated.schema.loader`` for the rule), and
   rejects what is not JSON-like (non-string keys, other Python types, NaN,
   nesting deeper than ``MAX_DEPTH``).
2. The JSON Schema (``nmstate.schema.json``, Draft 2020-12) is applied by a
   validator built once; its errors are rewritten into short sentences.
3. The semantic checks that a schema cannot express: interface names,
   duplicates, sections that do not belong to the interface type, and
   contradictions inside the one request.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import jsonschema.validators
from jsonschema.exceptions import ValidationError

from nmstated.errors import InvalidArgument
from nmstated.schema.loader import MAX_DEPTH, PlainScalar, load_text

__all__ = [
    "INTERFACE_NAME_MAX_BYTES",
    "SCHEMA",
    "SECTION_TYPES",
    "check_value",
    "new_interface_problems",
    "parse_state",
    "validate_state",
]

Path = tuple[str | int, ...]
JsonDict = dict[str, Any]

INTERFACE_NAME_MAX_BYTES = 15
TOP_LEVEL = "top level"
_TOP_HINT = "a mapping with keys like 'interfaces'"


def _load_schema() -> JsonDict:
    text = resources.files("nmstated.schema").joinpath("nmstate.schema.json").read_text("utf-8")
    schema: JsonDict = json.loads(text)
    return schema


SCHEMA: JsonDict = _load_schema()

#: interface section key -> the interface types it belongs to (from 'x-for-types').
SECTION_TYPES: dict[str, frozenset[str]] = {
    key: frozenset(prop["x-for-types"])
    for key, prop in SCHEMA["$defs"]["interface"]["properties"].items()
    if "x-for-types" in prop
}

# ---------------------------------------------------------------------------
# formats


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


_MAC_RE = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?:(?::[0-9A-Fa-f]{2}){14})?\Z")
_HEX_RE = re.compile(r"0[xX][0-9A-Fa-f]{1,8}\Z")
_SCOPED_RE = re.compile(r"([0-9A-Fa-f:.]+)%([^\s%/]{1,15})\Z")

_FORMATS = jsonschema.FormatChecker(formats=())
_FORMAT_TEXT: dict[str, str] = {}


_FormatFunc = Callable[[str], bool]


def _format(name: str, text: str) -> Callable[[_FormatFunc], _FormatFunc]:
    """Register ``func`` as format ``name``; ``text`` names it in messages."""
    _FORMAT_TEXT[name] = text

    def register(func: _FormatFunc) -> _FormatFunc:
        def checker(instance: object) -> bool:
            return not isinstance(instance, str) or bool(func(instance))

        _FORMATS.checks(name)(checker)
        return func

    return register


@_format("ipv4", "an IPv4 address")
def _is_ipv4(value: str) -> bool:
    return isinstance(_ip(value), ipaddress.IPv4Address)


@_format("ipv6", "an IPv6 address")
def _is_ipv6(value: str) -> bool:
    return isinstance(_ip(value), ipaddress.IPv6Address)


@_format("ip-address", "an IP address")
def _is_ip(value: str) -> bool:
    return _ip(value) is not None


@_format("ip-address-or-empty", "an IP address")
def _is_ip_or_empty(value: str) -> bool:
    return value == "" or _ip(value) is not None


@_format("ip-network", "an IP network like 192.0.2.0/24")
def _is_network(value: str) -> bool:
    return _network(value) is not None


@_format("mac-address", "a MAC address")
def _is_mac(value: str) -> bool:
    return bool(_MAC_RE.match(value))


@_format("dns-server", "an IP address")
def _is_dns_server(value: str) -> bool:
    match = _SCOPED_RE.match(value)
    if match:
        return isinstance(_ip(match.group(1)), ipaddress.IPv6Address)
    return _ip(value) is not None


@_format("u32-hex", "a 32-bit number (decimal, or hex like 0x1f)")
def _is_u32_hex(value: str) -> bool:
    return bool(_HEX_RE.match(value))


# ---------------------------------------------------------------------------
# the validator, built once


def _is_integer(_checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_string(_checker: object, instance: object) -> bool:
    # A plain YAML scalar still unresolved after normalize() is one the schema
    # could not take as text (e.g. an empty value where a string is wanted).
    return isinstance(instance, str) and not isinstance(instance, PlainScalar)


_validators: Any = jsonschema.validators  # extend() is untyped
_StrictValidator = _validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "string": _is_string}
    ),
)


def _inline_refs(schema: Any, defs: JsonDict) -> Any:
    """A copy of ``schema`` with every local ``$ref`` replaced by its target.

    The schema is not recursive, and jsonschema's reference lookups are about a
    fifth of the validation time, so the validator runs on this copy.
    """
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _inline_refs(value, defs) for key, value in schema.items() if key != "$defs"}
    ref = out.pop("$ref", None)
    if isinstance(ref, str):
        target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        out = {**target, **out}
    return out


_VALIDATOR = _StrictValidator(_inline_refs(SCHEMA, SCHEMA["$defs"]), format_checker=_FORMATS)


# ---------------------------------------------------------------------------
# schema lookups for normalize()


def _ref(ref: str) -> JsonDict:
    prefix = "#/$defs/"
    if not ref.startswith(prefix):  # pragma: no cover - our schema only uses local refs
        raise ValueError(f"unsupported $ref {ref!r}")
    found: JsonDict = SCHEMA["$defs"][ref[len(prefix) :]]
    return found


def _expand_one(schema: Any, out: list[JsonDict]) -> None:
    if not isinstance(schema, dict):
        return
    out.append(schema)
    if "$ref" in schema:
        _expand_one(_ref(schema["$ref"]), out)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            _expand_one(sub, out)
    for key in ("then", "else"):
        if key in schema:
            _expand_one(schema[key], out)


_Schemas = tuple[JsonDict, ...]
_EXPANDED: dict[tuple[int, ...], _Schemas] = {}


def _expand(schemas: Iterable[JsonDict]) -> _Schemas:
    schemas = tuple(schemas)
    key = tuple(id(s) for s in schemas)
    found = _EXPANDED.get(key)
    if found is None:
        out: list[JsonDict] = []
        for schema in schemas:
            _expand_one(schema, out)
        found = _EXPANDED[key] = tuple(out)
    return found


def _child(schemas: _Schemas, key: str) -> _Schemas:
    out: list[JsonDict] = []
    for schema in schemas:
        props = schema.get("properties", {})
        if key in props:
            out.append(props[key])
        elif isinstance(schema.get("additionalProperties"), dict):
            out.append(schema["additionalProperties"])
    return _expand(out)


def _items(schemas: _Schemas) -> _Schemas:
    return _expand(s["items"] for s in schemas if isinstance(s.get("items"), dict))


def _allowed_types(schemas: _Schemas) -> frozenset[str] | None:
    """The JSON types the schemas allow; None when nothing constrains the type."""
    types: set[str] = set()
    for schema in schemas:
        declared = schema.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(declared)
    return frozenset(types) if types else None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ---------------------------------------------------------------------------
# problems


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    def text(self) -> str:
        return f"{format_path(self.path)}: {self.message}"


def format_path(path: Sequence[str | int]) -> str:
    """``("interfaces", 2, "ipv4")`` -> ``interfaces[2].ipv4``; ``()`` -> ``top level``."""
    if not path:
        return TOP_LEVEL
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out)


class _Unsupported:
    """Stands in for a value normalize() rejected, so the schema stays quiet about it."""

    __slots__ = ()


_BAD = _Unsupported()


def normalize(value: Any, problems: list[Problem]) -> Any:
    """Copy ``value`` into plain JSON types, resolving YAML plain scalars by the schema."""
    return _normalize(value, _expand([SCHEMA]), (), problems)


def _normalize(value: Any, schemas: _Schemas, path: Path, problems: list[Problem]) -> Any:
    if len(path) > MAX_DEPTH:
        problems.append(Problem((), f"the value is nested more than {MAX_DEPTH} levels deep"))
        return _BAD
    if isinstance(value, PlainScalar):
        return _resolve_plain(value, schemas)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(Problem(path, f"{value} is not a number"))
            return _BAD
        return float(value)
    if isinstance(value, dict):
        out: JsonDict = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(Problem(path, f"key {_short(key)} is not a string"))
                continue
            key = str(key)
            out[key] = _normalize(item, _child(schemas, key), (*path, key), problems)
        return out
    if isinstance(value, list | tuple):
        item_schemas = _items(schemas)
        return [
            _normalize(item, item_schemas, (*path, index), problems)
            for index, item in enumerate(value)
        ]
    problems.append(Problem(path, f"unsupported value of type {type(value).__name__}"))
    return _BAD


def _resolve_plain(value: PlainScalar, schemas: _Schemas) -> Any:
    core = value.core
    allowed = _allowed_types(schemas)
    if allowed is None:
        return core if not isinstance(core, str) else str(value)
    kind = _json_type(core)
    if kind in allowed or (kind == "integer" and "number" in allowed):
        return core if kind != "string" else str(value)
    if core is not None and "string" in allowed:
        return str(value)
    return value  # left for the schema to reject, with a hint from _plain_hint()


# ---------------------------------------------------------------------------
# rewriting jsonschema errors

_TYPE_TEXT = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})
_LEADING_ZERO_RE = re.compile(r"[-+]?0[0-9_]+\Z")
_RADIX_RE = re.compile(r"[-+]?0(?:[xX][0-9A-Fa-f_]+|[oO][0-7_]+|[bB][01_]+)\Z")


def _short(value: object, limit: int = 40) -> str:
    if isinstance(value, str):
        text = str(value)
        if len(text) > limit:
            text = text[: limit - 1] + "\u2026"
        return repr(text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = str(value)
        return text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return type(value).__name__


def _describe(value: object) -> str:
    if isinstance(value, PlainScalar) and not isinstance(value.core, str):
        if value.core is None:
            return "nothing (null)"
        if isinstance(value.core, bool):
            return str(value)
        return f"the number {_short(str(value))[1:-1]}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return _short(value)
    if isinstance(value, int | float):
        return f"the number {_short(value)}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    return f"a value of type {type(value).__name__}"


def _plain_hint(value: PlainScalar, expected: Sequence[str]) -> str | None:
    text = str(value)
    if "boolean" in expected and text.lower() in _YAML11_BOOLS:
        return f"{_short(text)} is not a boolean (write true or false)"
    if "integer" in expected:
        if _RADIX_RE.match(text):
            try:
                number = int(text, 0)
            except ValueError:
                return f"{_short(text)} is not a decimal integer"
            return f"{_short(text)} is not a decimal integer (write {number})"
        if _LEADING_ZERO_RE.match(text):
            return (
                f"{_short(text)} has a leading zero, which YAML 1.1 reads as octal"
                " (write the number without it)"
            )
    return None


def _type_message(error: ValidationError, path: Path) -> str:
    declared: Any = error.validator_value
    expected = [declared] if isinstance(declared, str) else list(declared)
    if isinstance(error.instance, PlainScalar):
        hint = _plain_hint(error.instance, expected)
        if hint:
            return hint
    if not path and expected == ["object"]:
        wanted = _TOP_HINT
    else:
        wanted = " or ".join(_TYPE_TEXT.get(t, t) for t in expected)
    return f"expected {wanted}, got {_describe(error.instance)}"


def _schema_problems(error: ValidationError) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    instance = error.instance
    kind = error.validator
    value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if instance is _BAD:
        return
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        for key in instance:
            if key not in known:
                yield Problem(path, f"unknown key {_short(key)}")
        return
    if kind == "required":
        missing = [key for key in value if isinstance(instance, dict) and key not in instance]
        for key in missing:
            yield Problem(path, f"missing required key {_short(key)}")
        return
    if kind == "type":
        message = _type_message(error, path)
    elif kind == "enum":
        choices = ", ".join(str(_short(v) if not isinstance(v, str) else v) for v in value)
        if len(value) == 1:
            message = f"{_short(instance)} is not allowed, the only value is {choices}"
        else:
            message = f"{_short(instance)} is not one of {choices}"
    elif kind == "const":
        message = f"{_short(instance)} is not {_short(value)}"
    elif kind == "maximum":
        message = f"{_short(instance)} is above {value}"
    elif kind == "minimum":
        message = f"{_short(instance)} is below {value}"
    elif kind == "format":
        message = f"{_short(instance)} is not {_FORMAT_TEXT.get(value, value)}"
    elif "x-message" in schema:
        message = str(schema["x-message"])
    else:
        message = f"is not valid (fails the {kind!r} check)"
    yield Problem(path, message)


# ---------------------------------------------------------------------------
# semantic checks


def _dict(value: Any) -> JsonDict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _interfaces(state: Any) -> Iterator[tuple[int, JsonDict]]:
    for index, iface in enumerate(_list(_dict(state).get("interfaces"))):
        if isinstance(iface, dict):
            yield index, iface


def interface_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a Linux interface name, or None."""
    if name == "":
        return "the name is empty"
    if name in (".", ".."):
        return f"{_short(name)} is not allowed as an interface name"
    if len(name.encode("utf-8", "surrogatepass")) > INTERFACE_NAME_MAX_BYTES:
        return f"{_short(name)} is longer than {INTERFACE_NAME_MAX_BYTES} bytes"
    for char, what in (("/", "'/'"), (":", "':'")):
        if char in name:
            return f"{_short(name)} contains {what}"
    if any(char.isspace() for char in name):
        return f"{_short(name)} contains whitespace"
    return None


def _name_problems(
    value: Any, path: Path, out: list[Problem], *, allow_empty: bool = False
) -> None:
    if type(value) is not str or (allow_empty and value == ""):  # the schema reports non-text
        return
    problem = interface_name_problem(value)
    if problem:
        out.append(Problem(path, problem))


def _ip_family(text: Any) -> int | None:
    if not isinstance(text, str) or text == "":
        return None
    address = _ip(text)
    if address is not None:
        return address.version
    network = _network(text)
    return network.version if network is not None else None


def _interface_problems(index: int, iface: JsonDict, out: list[Problem]) -> None:
    base: Path = ("interfaces", index)
    absent = iface.get("state") == "absent"
    iface_type = iface.get("type")
    _name_problems(iface.get("name"), (*base, "name"), out)
    if absent:
        return
    _name_problems(iface.get("controller"), (*base, "controller"), out, allow_empty=True)
    if isinstance(iface.get("name"), str) and iface.get("controller") == iface["name"]:
        out.append(Problem((*base, "controller"), "an interface cannot be its own controller"))

    sections = [key for key in iface if key in SECTION_TYPES]
    if isinstance(iface_type, str):
        for key in sections:
            if iface_type not in SECTION_TYPES[key]:
                out.append(
                    Problem(
                        base, f"section {_short(key)} does not belong to type {_short(iface_type)}"
                    )
                )
    elif len(sections) > 1:
        common = frozenset.intersection(*(SECTION_TYPES[key] for key in sections))
        if not common:
            names = " and ".join(_short(key) for key in sections)
            out.append(Problem(base, f"sections {names} belong to different interface types"))

    for family in ("ipv4", "ipv6"):
        _ip_problems(iface, family, (*base, family), out)

    for key in ("vlan", "vxlan", "mac-vlan"):
        section = iface.get(key)
        if isinstance(section, dict) and (iface_type in (None, key)):
            if "base-iface" not in section:
                out.append(Problem((*base, key), "missing required key 'base-iface'"))
            _name_problems(section.get("base-iface"), (*base, key, "base-iface"), out)
    veth = _dict(iface.get("veth"))
    _name_problems(veth.get("peer"), (*base, "veth", "peer"), out)
    if isinstance(iface.get("name"), str) and veth.get("peer") == iface["name"]:
        out.append(Problem((*base, "veth", "peer"), "a veth cannot be its own peer"))

    bridge = _dict(iface.get("bridge"))
    for port_index, port in enumerate(_list(bridge.get("port"))):
        port_path: Path = (*base, "bridge", "port", port_index)
        port = _dict(port)
        _name_problems(port.get("name"), (*port_path, "name"), out)
        vlan = _dict(port.get("vlan"))
        if vlan.get("mode") == "access" and _list(vlan.get("trunk-tags")):
            out.append(Problem((*port_path, "vlan"), "trunk-tags need mode: trunk"))
        for tag_index, tag in enumerate(_list(vlan.get("trunk-tags"))):
            id_range = _dict(_dict(tag).get("id-range"))
            low, high = id_range.get("min"), id_range.get("max")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                out.append(
                    Problem(
                        (*port_path, "vlan", "trunk-tags", tag_index, "id-range"),
                        f"min {low} is above max {high}",
                    )
                )
    for key, list_path in (
        ("link-aggregation", ("link-aggregation", "port")),
        ("vrf", ("vrf", "port")),
    ):
        for port_index, port in enumerate(_list(_dict(iface.get(key)).get("port"))):
            _name_problems(port, (*base, *list_path, port_index), out)

    mac = iface.get("mac-address")
    if isinstance(mac, str) and _is_mac(mac) and int(mac[:2], 16) & 1:
        out.append(
            Problem((*base, "mac-address"), f"{mac} is a multicast address (odd first octet)")
        )

    ipv6 = _dict(iface.get("ipv6"))
    mtu = iface.get("mtu")
    if ipv6.get("enabled") is True and isinstance(mtu, int) and 68 <= mtu < 1280:
        out.append(Problem((*base, "mtu"), f"{mtu} is below 1280, the minimum with IPv6 enabled"))


def _ip_problems(iface: JsonDict, family: str, path: Path, out: list[Problem]) -> None:
    config = iface.get(family)
    if not isinstance(config, dict):
        return
    if family == "ipv6" and config.get("autoconf") is True and config.get("dhcp") is False:
        out.append(Problem((*path, "autoconf"), "autoconf: true needs dhcp: true"))
    if config.get("enabled") is False:
        for key in ("dhcp", "autoconf"):
            if config.get(key) is True:
                out.append(Problem((*path, key), f"{key}: true conflicts with enabled: false"))
        if _list(config.get("address")):
            out.append(Problem((*path, "address"), "addresses conflict with enabled: false"))
    seen: dict[Any, int] = {}
    for index, entry in enumerate(_list(config.get("address"))):
        text = _dict(entry).get("ip")
        address = _ip(text) if isinstance(text, str) else None
        if address is None:
            continue
        if address in seen:
            out.append(
                Problem(
                    (*path, "address", index),
                    f"address {address} is listed twice (also at address[{seen[address]}])",
                )
            )
        else:
            seen[address] = index


def _port_lists(iface: JsonDict) -> Iterator[tuple[Path, Any]]:
    """(path in the interface, port name) for every port its type section lists."""
    for port_index, port in enumerate(_list(_dict(iface.get("bridge")).get("port"))):
        yield ("bridge", "port", port_index, "name"), _dict(port).get("name")
    for key in ("link-aggregation", "vrf"):
        for port_index, port in enumerate(_list(_dict(iface.get(key)).get("port"))):
            yield (key, "port", port_index), port


def _port_problems(state: Any, out: list[Problem]) -> None:
    """A port belongs to one controller, and a controller is not its own port."""
    owner: dict[str, tuple[str, Path]] = {}
    for index, iface in _interfaces(state):
        name = iface.get("name")
        if iface.get("state") == "absent" or type(name) is not str:
            continue
        for where, port in _port_lists(iface):
            if type(port) is not str:
                continue
            path: Path = ("interfaces", index, *where)
            if port == name:
                out.append(Problem(path, f"{_short(name)} cannot be a port of itself"))
            elif port in owner and owner[port][0] != name:
                first = format_path(owner[port][1])
                out.append(
                    Problem(path, f"{_short(port)} is already a port of {owner[port][0]} ({first})")
                )
            else:
                owner.setdefault(port, (name, path))


def _interface_set_problems(state: Any, out: list[Problem]) -> None:
    first: dict[str, int] = {}
    for index, iface in _interfaces(state):
        name = iface.get("name")
        if type(name) is not str:
            continue
        if name in first:
            out.append(
                Problem(
                    ("interfaces", index),
                    f"duplicate interface {_short(name)} (first at interfaces[{first[name]}])",
                )
            )
        else:
            first[name] = index


def _route_problems(state: Any, out: list[Problem]) -> None:
    by_name: dict[str, tuple[int, JsonDict]] = {}
    for index, iface in _interfaces(state):
        if isinstance(iface.get("name"), str):
            by_name.setdefault(iface["name"], (index, iface))
    routes = _dict(_dict(state).get("routes"))
    for index, route in enumerate(_list(routes.get("config"))):
        if not isinstance(route, dict):
            continue
        path: Path = ("routes", "config", index)
        destination = _ip_family(route.get("destination"))
        gateway = _ip_family(route.get("next-hop-address"))
        source = _ip_family(route.get("source"))
        if destination and gateway and destination != gateway:
            out.append(
                Problem(
                    (*path, "next-hop-address"),
                    f"IPv{gateway} next hop for an IPv{destination} destination",
                )
            )
        if destination and source and destination != source:
            out.append(
                Problem(
                    (*path, "source"), f"IPv{source} source for an IPv{destination} destination"
                )
            )
        hop = route.get("next-hop-interface")
        _name_problems(hop, (*path, "next-hop-interface"), out)
        if route.get("state") == "absent" or not isinstance(hop, str) or hop not in by_name:
            continue
        iface_index, iface = by_name[hop]
        if iface.get("state") == "absent":
            out.append(
                Problem(
                    (*path, "next-hop-interface"),
                    f"{_short(hop)} is marked absent in this request",
                )
            )
            continue
        family = destination or gateway
        if family and _dict(iface.get(f"ipv{family}")).get("enabled") is False:
            out.append(
                Problem(
                    (*path, "next-hop-interface"),
                    f"{_short(hop)} has ipv{family} enabled: false"
                    f" (interfaces[{iface_index}].ipv{family})",
                )
            )
    rules = _dict(_dict(state).get("route-rules"))
    for index, rule in enumerate(_list(rules.get("config"))):
        if not isinstance(rule, dict):
            continue
        path = ("route-rules", "config", index)
        family = rule.get("family")
        declared = {"ipv4": 4, "ipv6": 6}.get(family) if isinstance(family, str) else None
        families = {key: _ip_family(rule.get(key)) for key in ("ip-from", "ip-to")}
        seen = [f for f in families.values() if f]
        if len(set(seen)) > 1:
            out.append(Problem(path, "ip-from and ip-to are of different IP families"))
        elif declared and seen and seen[0] != declared:
            out.append(Problem(path, f"family is ipv{declared} but the addresses are IPv{seen[0]}"))
        _name_problems(rule.get("iif"), (*path, "iif"), out)


def _semantic_problems(state: Any) -> list[Problem]:
    out: list[Problem] = []
    for index, iface in _interfaces(state):
        _interface_problems(index, iface, out)
    _interface_set_problems(state, out)
    _port_problems(state, out)
    _route_problems(state, out)
    return out


def new_interface_problems(state: dict[str, Any], existing_names: set[str]) -> list[str]:
    """Problems that depend on which interfaces exist already.

    ``state`` is a validated desired state; ``existing_names`` the names of the
    interfaces present now.  An interface that does not exist and is wanted up
    (``state: up`` or no state) is new, and must carry enough to be created:
    a ``type`` that can be created, a veth ``peer``, a ``base-iface`` and ``id``
    for vlan/vxlan, a ``base-iface`` for mac-vlan, a bond ``mode`` and a vrf
    ``route-table-id``.  Names referred to as ports, base interfaces or
    controllers must exist or be created by the same request.
    """
    out: list[Problem] = []
    present = set(existing_names)
    for _, iface in _interfaces(state):
        name = iface.get("name")
        if isinstance(name, str) and iface.get("state") != "absent":
            present.add(name)
    for _, iface in _interfaces(state):
        name = iface.get("name")
        if isinstance(name, str) and iface.get("state") == "absent":
            present.discard(name)
    for index, iface in _interfaces(state):
        name = iface.get("name")
        if not isinstance(name, str) or iface.get("state") == "absent":
            continue
        base: Path = ("interfaces", index)
        if name not in existing_names and iface.get("state", "up") == "up":
            _creation_problems(name, iface, base, out)
        refs: list[tuple[Path, Any]] = [
            ((*base, "controller"), iface.get("controller") or None),
        ]
        for key in ("vlan", "vxlan", "mac-vlan"):
            refs.append(((*base, key, "base-iface"), _dict(iface.get(key)).get("base-iface")))
        for port_index, port in enumerate(_list(_dict(iface.get("bridge")).get("port"))):
            refs.append(((*base, "bridge", "port", port_index, "name"), _dict(port).get("name")))
        for key in ("link-aggregation", "vrf"):
            for port_index, port in enumerate(_list(_dict(iface.get(key)).get("port"))):
                refs.append(((*base, key, "port", port_index), port))
        for path, ref in refs:
            if isinstance(ref, str) and ref not in present:
                out.append(Problem(path, f"interface {_short(ref)} does not exist"))
    return [problem.text() for problem in _sorted(out, state)]


def _creation_problems(name: str, iface: JsonDict, base: Path, out: list[Problem]) -> None:
    iface_type = iface.get("type")
    if iface_type in (None, "unknown"):
        out.append(Problem(base, f"{_short(name)} does not exist and a new interface needs a type"))
        return
    if iface_type in ("ethernet", "loopback"):
        out.append(
            Problem(base, f"{iface_type} {_short(name)} does not exist and cannot be created")
        )
        return
    needs: dict[str, tuple[str, ...]] = {
        "veth": ("veth", "peer"),
        "vlan": ("vlan", "base-iface", "id"),
        "vxlan": ("vxlan", "base-iface", "id"),
        "mac-vlan": ("mac-vlan", "base-iface"),
        "bond": ("link-aggregation", "mode"),
        "vrf": ("vrf", "route-table-id"),
    }
    if not isinstance(iface_type, str) or iface_type not in needs:
        return
    section, *keys = needs[iface_type]
    config = _dict(iface.get(section))
    for key in keys:
        if key not in config:
            out.append(Problem(base, f"new {iface_type} {_short(name)} needs {section}.{key}"))


# ---------------------------------------------------------------------------
# entry points


def _order_key(path: Path, root: Any) -> tuple[int, ...]:
    key: list[int] = []
    node = root
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            keys = list(node)
            key.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            key.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            key.append(0)
            node = None
    return tuple(key)


def _sorted(problems: Iterable[Problem], root: Any) -> list[Problem]:
    return sorted(problems, key=lambda p: _order_key(p.path, root))


def check_value(value: Any, early: Sequence[str] = ()) -> tuple[Any, list[str]]:
    """Normalize and check ``value``; returns it with every problem found.

    ``early`` are problems already found while reading the text; they come first.
    """
    problems: list[Problem] = []
    normalized = normalize(value, problems)
    errors = list(_VALIDATOR.iter_errors(normalized))
    # A value of the wrong type gets one message, not also "not one of ...".
    wrong_type = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    for error in errors:
        if error.validator == "type" or tuple(error.absolute_path) not in wrong_type:
            problems.extend(_schema_problems(error))
    problems.extend(_semantic_problems(normalized))
    messages = list(early)
    for problem in _sorted(problems, normalized):
        text = problem.text()
        if text not in messages:
            messages.append(text)
    return normalized, messages


def validate_state(state: object) -> dict[str, Any]:
    """Check an already-loaded desired state; returns a plain-typed copy.

    Raises ``InvalidArgument`` listing every problem, joined with ``'; '``.
    """
    normalized, messages = check_value(state)
    if messages:
        raise InvalidArgument("; ".join(messages))
    assert isinstance(normalized, dict)
    return normalized


def parse_state(text: str) -> dict[str, Any]:
    """YAML or JSON text -> validated desired-state dict (see ``validate_state``)."""
    value, early = load_text(text)
    normalized, messages = check_value(value, early)
    if messages:
        raise InvalidArgument("; ".join(messages))
    assert isinstance(normalized, dict)
    return normalized

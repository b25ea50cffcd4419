"""Property tests: parse_state/validate_state never fail in any other way than
InvalidArgument, and generated valid states always validate and round-trip."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nmstated.errors import InvalidArgument
from nmstated.schema import SCHEMA, parse_state, validate_state

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def outcome(func: Any, value: Any) -> dict[str, Any] | None:
    """Run ``func``; only a dict or InvalidArgument with a one-line message may come out."""
    try:
        result = func(value)
    except InvalidArgument as exc:
        assert exc.message
        assert "\n" not in exc.message
        assert "Traceback" not in exc.message
        return None
    assert isinstance(result, dict)
    return result


# ---------------------------------------------------------------------------
# arbitrary input

FRAGMENTS = [
    "interfaces:", "routes:", "config:", "\n", "\n", "- ", "  ", "    ", "\t", "\u00a0", ": ", ":",
    "name: ", "type: ", "state: ", "mtu: ", "ipv4: ", "ipv6: ", "address:", "ip: ",
    "prefix-length: ", "enabled: ", "bridge:", "port:", "vlan:", "id: ", "base-iface: ",
    "eth0", "br0", "1234", "024", "0x1f", "0o7", "yes", "on", "true", "null", "~", "1e3",
    "12:34:56:00:00:01", "2001:db8::1", "192.0.2.1", "33", "0", "-1", "65536", "ethernet",
    "linux-bridge", "vlan", "absent", "up", "{", "}", "[", "]", ",", "'", '"', "&a ", "*a",
    "!!str ", "!!binary ", "!x ", "---\n", "...\n", "%YAML 1.1\n", "#", "?", "|", ">",
    "\x00", "\ud800", "\ufeff", "\x85", "\u2028", '{"interfaces": [', '"name": ', "NaN",
]  # fmt: skip

yamlish = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@SETTINGS
@given(st.one_of(st.text(), yamlish))
def test_parse_state_only_raises_invalid_argument(text: str) -> None:
    outcome(parse_state, text)


@SETTINGS
@given(st.binary().map(lambda b: b.decode("latin-1")))
def test_parse_state_on_binary_garbage(text: str) -> None:
    outcome(parse_state, text)


def _schema_keys() -> list[str]:
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(k for k in node.get("properties", {}) if isinstance(k, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SCHEMA)
    return sorted(keys)


KEYS = st.one_of(st.sampled_from(_schema_keys()), st.text(max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["eth0", "up", "absent", "linux-bridge", "192.0.2.1", "2001:db8::1", "vlan"]),
    st.binary(max_size=4),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children),
        st.dictionaries(KEYS, children, max_size=5),
        st.dictionaries(st.integers(), children, max_size=2),
    ),
    max_leaves=40,
)


@SETTINGS
@given(JSONISH)
def test_validate_state_only_raises_invalid_argument(value: Any) -> None:
    outcome(validate_state, value)


@SETTINGS
@given(st.dictionaries(KEYS, JSONISH, max_size=4).map(lambda d: {"interfaces": [d]}))
def test_validate_state_on_interface_shaped_junk(value: Any) -> None:
    outcome(validate_state, value)


# ---------------------------------------------------------------------------
# generated valid states

TRICKY_NAMES = ["1234", "024", "0x1f", "1e3", "1.50", "yes", "on", "true", "null", "~", "-", "a.b"]
NAMES = st.one_of(
    st.sampled_from(TRICKY_NAMES),
    st.text(alphabet="abcdefxyz0123456789-_.@+~", min_size=1, max_size=15),
).filter(lambda n: n not in (".", "..", "uplink0"))
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30
)  # descriptions: anything printable
U16 = st.integers(0, 65535)
# Unicast: a multicast MAC address (odd first octet) is refused.
MACS = st.binary(min_size=6, max_size=6).map(
    lambda b: ":".join(f"{x:02x}" for x in (b[0] & 0xFE, *b[1:]))
)


def addresses(version: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    ips = st.ip_addresses(v=version).map(str)
    width = 32 if version == 4 else 128
    return st.lists(
        st.fixed_dictionaries({"ip": ips, "prefix-length": st.integers(0, width)}),
        max_size=3,
        unique_by=lambda a: ipaddress.ip_address(a["ip"]),
    )


@st.composite
def ipv6_config(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"enabled": False}
    autoconf = draw(st.booleans())
    dhcp = True if autoconf else draw(st.booleans())
    config = {"enabled": True, "dhcp": dhcp, "autoconf": autoconf, "address": draw(addresses(6))}
    if draw(st.booleans()):
        config["addr-gen-mode"] = draw(st.sampled_from(["eui64", "stable-privacy"]))
    return config


IPV4 = st.one_of(
    st.builds(lambda: {"enabled": False}),
    st.fixed_dictionaries(
        {"enabled": st.just(True), "dhcp": st.booleans(), "address": addresses(4)},
        optional={
            "auto-dns": st.booleans(),
            "auto-route-metric": st.integers(0, 2**32 - 1),
            "auto-route-table-id": st.integers(0, 2**32 - 1),
        },
    ),
)

BRIDGE_PORT = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "stp-hairpin-mode": st.booleans(),
        "stp-path-cost": st.integers(1, 65535),
        "stp-priority": st.integers(0, 63),
        "vlan": st.fixed_dictionaries(
            {"mode": st.just("trunk")},
            optional={
                "enable-native": st.booleans(),
                "tag": st.integers(0, 4094),
                "trunk-tags": st.lists(
                    st.one_of(
                        st.fixed_dictionaries({"id": st.integers(0, 4094)}),
                        st.integers(0, 4094).flatmap(
                            lambda low: st.fixed_dictionaries(
                                {
                                    "id-range": st.fixed_dictionaries(
                                        {"min": st.just(low), "max": st.integers(low, 4094)}
                                    )
                                }
                            )
                        ),
                    ),
                    max_size=3,
                ),
            },
        ),
    },
)

BRIDGE = st.fixed_dictionaries(
    {},
    optional={
        "options": st.fixed_dictionaries(
            {},
            optional={
                "stp": st.fixed_dictionaries(
                    {},
                    optional={
                        "enabled": st.booleans(),
                        "forward-delay": st.integers(2, 30),
                        "hello-time": st.integers(1, 10),
                        "max-age": st.integers(6, 40),
                        "priority": U16,
                    },
                ),
                "mac-ageing-time": st.integers(0, 1000000),
                "multicast-snooping": st.booleans(),
                "vlan-protocol": st.sampled_from(["802.1q", "802.1ad"]),
                "multicast-router": st.sampled_from(["auto", "disabled", "enabled", 0, 1, 2]),
            },
        ),
        "port": st.lists(BRIDGE_PORT, max_size=3),
    },
)


def sections(name: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    peer = NAMES.filter(lambda p: p != name)
    return st.one_of(
        st.tuples(
            st.just("ethernet"),
            st.fixed_dictionaries(
                {},
                optional={
                    "ethernet": st.fixed_dictionaries(
                        {},
                        optional={
                            "speed": st.integers(0, 400000),
                            "duplex": st.sampled_from(["full", "half"]),
                            "auto-negotiation": st.booleans(),
                        },
                    )
                },
            ),
        ),
        st.tuples(
            st.just("veth"), st.fixed_dictionaries({"veth": st.fixed_dictionaries({"peer": peer})})
        ),
        st.tuples(st.just("linux-bridge"), st.fixed_dictionaries({}, optional={"bridge": BRIDGE})),
        st.tuples(
            st.just("vxlan"),
            st.fixed_dictionaries(
                {
                    "vxlan": st.fixed_dictionaries(
                        {"base-iface": NAMES, "id": st.integers(0, 2**24 - 1)},
                        optional={
                            "remote": st.ip_addresses().map(str),
                            "destination-port": U16,
                            "learning": st.booleans(),
                        },
                    )
                }
            ),
        ),
        st.tuples(
            st.just("mac-vlan"),
            st.fixed_dictionaries(
                {
                    "mac-vlan": st.fixed_dictionaries(
                        {
                            "base-iface": NAMES,
                            "mode": st.sampled_from(
                                ["vepa", "bridge", "private", "passthru", "source"]
                            ),
                        },
                        optional={"promiscuous": st.booleans()},
                    )
                }
            ),
        ),
        st.tuples(
            st.just("vlan"),
            st.fixed_dictionaries(
                {
                    "vlan": st.fixed_dictionaries(
                        {"base-iface": NAMES, "id": st.integers(0, 4094)},
                        optional={"protocol": st.sampled_from(["802.1q", "802.1ad"])},
                    )
                }
            ),
        ),
        st.tuples(
            st.just("bond"),
            st.fixed_dictionaries(
                {
                    "link-aggregation": st.fixed_dictionaries(
                        {
                            "mode": st.sampled_from(["balance-rr", "active-backup", "802.3ad"]),
                            "port": st.lists(NAMES, max_size=3),
                        },
                        optional={
                            "options": st.dictionaries(
                                st.sampled_from(["miimon", "lacp_rate", "updelay"]),
                                st.one_of(st.integers(0, 1000), st.sampled_from(["fast", "slow"])),
                            )
                        },
                    )
                }
            ),
        ),
        st.tuples(
            st.just("vrf"),
            st.fixed_dictionaries(
                {
                    "vrf": st.fixed_dictionaries(
                        {
                            "port": st.lists(NAMES, max_size=2),
                            "route-table-id": st.integers(1, 2**32 - 1),
                        }
                    )
                }
            ),
        ),
        st.tuples(st.just("dummy"), st.just({})),
    )


@st.composite
def interface(draw: st.DrawFn, name: str) -> dict[str, Any]:
    if draw(st.integers(0, 9)) == 0:
        return {"name": name, "state": "absent"}
    iface_type, section = draw(sections(name))
    iface: dict[str, Any] = {"name": name, "type": iface_type, **section}
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "state": st.sampled_from(["up", "down"]),
                "mtu": st.integers(1280, 65535),
                "mac-address": MACS,
                "description": TEXT,
                "accept-all-mac-addresses": st.booleans(),
                "ipv4": IPV4,
                "ipv6": ipv6_config(),
                "lldp": st.fixed_dictionaries({"enabled": st.booleans()}),
            },
        )
    )
    iface.update(optional)
    return iface


@st.composite
def route(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from([4, 6]))
    address = draw(st.ip_addresses(v=version))
    width = 32 if version == 4 else 128
    prefix = draw(st.integers(0, width))
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    result: dict[str, Any] = {"destination": str(network), "next-hop-interface": "uplink0"}
    if draw(st.booleans()):
        result["next-hop-address"] = str(draw(st.ip_addresses(v=version)))
    result.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "metric": st.integers(0, 2**32 - 1),
                    "table-id": st.integers(0, 2**32 - 1),
                    "weight": st.integers(1, 256),
                },
            )
        )
    )
    return result


@st.composite
def route_rule(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from([4, 6]))
    rule: dict[str, Any] = {"family": f"ipv{version}", "priority": draw(st.integers(0, 2**32 - 1))}
    if draw(st.booleans()):
        rule["ip-from"] = f"{draw(st.ip_addresses(v=version))}/{32 if version == 4 else 128}"
    if draw(st.booleans()):
        rule["fwmark"] = draw(
            st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1).map(hex))
        )
    if draw(st.booleans()):
        rule["action"] = draw(st.sampled_from(["blackhole", "prohibit", "unreachable"]))
    else:
        rule["route-table"] = draw(st.integers(0, 2**32 - 1))
    return rule


def _one_controller_per_port(interfaces: list[dict[str, Any]]) -> None:
    """Valid states list a port under one controller at most, never under itself."""
    taken: set[str] = set()
    for iface in interfaces:
        for key in ("bridge", "link-aggregation", "vrf"):
            section = iface.get(key)
            if not isinstance(section, dict) or "port" not in section:
                continue
            kept = []
            for port in section["port"]:
                name = port["name"] if isinstance(port, dict) else port
                if name != iface["name"] and name not in taken:
                    kept.append(port)
                    taken.add(name)
            section["port"] = kept


@st.composite
def valid_state(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(NAMES, max_size=6, unique=True))
    state: dict[str, Any] = {"interfaces": [draw(interface(name)) for name in names]}
    _one_controller_per_port(state["interfaces"])
    if draw(st.booleans()):
        state["routes"] = {"config": draw(st.lists(route(), max_size=4))}
    if draw(st.booleans()):
        state["route-rules"] = {"config": draw(st.lists(route_rule(), max_size=3))}
    if draw(st.booleans()):
        state["dns-resolver"] = {
            "config": {
                "server": draw(st.lists(st.ip_addresses().map(str), max_size=3)),
                "search": draw(
                    st.lists(st.sampled_from(["example.com", "1234", "a.b"]), max_size=2)
                ),
            }
        }
    if draw(st.booleans()):
        state["hostname"] = {"config": draw(st.sampled_from(["host-01", "1234", "yes", "0x1f"]))}
    return state


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(valid_state())
def test_generated_valid_states_validate_and_round_trip(state: dict[str, Any]) -> None:
    assert validate_state(state) == state
    assert parse_state(json.dumps(state)) == state
    assert parse_state(yaml.safe_dump(state)) == state
    assert parse_state(yaml.safe_dump(state, sort_keys=False, indent=4)) == state


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


@SETTINGS
@given(valid_state(), st.data())
def test_mutated_states_only_raise_invalid_argument(
    state: dict[str, Any], data: st.DataObject
) -> None:
    state = copy.deepcopy(state)
    leaves = [p for p in _leaves(state) if p]
    assume(leaves)
    path = data.draw(st.sampled_from(leaves))
    target: Any = state
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = data.draw(JSONISH)
    outcome(validate_state, state)
    outcome(
        parse_state, json.dumps(state, default=repr, allow_nan=False) if _jsonable(state) else "{}"
    )


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True

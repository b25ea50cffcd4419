"""Fuzzing Apply (dry-run) over the bus: every call succeeds or is InvalidArgument.

Never another error kind, never a dead daemon.  Three sources: arbitrary
text, arbitrary nested values serialised as YAML or JSON, and valid states
with one value mutated.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from dbus_fast import Variant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import Sandbox
from tests.bus import call

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ALLOWED = {None, "org.nmstate.Error.InvalidArgument"}

VALID = {
    "interfaces": [
        {
            "name": "eth1",
            "type": "ethernet",
            "state": "up",
            "mtu": 1500,
            "ipv4": {
                "enabled": True,
                "dhcp": False,
                "address": [{"ip": "192.0.2.10", "prefix-length": 24}],
            },
            "ipv6": {"enabled": True, "address": [{"ip": "2001:db8::10", "prefix-length": 64}]},
        },
        {
            "name": "br0",
            "type": "linux-bridge",
            "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth2"}]},
        },
    ],
    "routes": {
        "config": [
            {
                "destination": "198.51.100.0/24",
                "next-hop-interface": "eth1",
                "next-hop-address": "192.0.2.1",
            }
        ]
    },
    "dns-resolver": {"config": {"server": ["192.0.2.53"], "search": ["example.org"]}},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.text(max_size=30)
    | st.just([])
    | st.just({})
)


def dry_run(box: Sandbox, text: str) -> str | None:
    reply = call(box.bus_address, "ApplyAndWait", "sa{sv}", [text, {"dry-run": Variant("b", True)}])
    if reply.error is not None:
        assert "\n" not in reply.message and "Traceback" not in reply.message
    return reply.error


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


ALL_PATHS = paths(VALID)


# D-Bus strings are UTF-8 without NUL: the bus library refuses NUL and lone
# surrogates before anything is sent.
TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@FUZZ
@given(text=st.text(alphabet=TEXT, max_size=300))
def test_arbitrary_text(shared_daemon: Sandbox, text: str) -> None:
    assert dry_run(shared_daemon, text) in ALLOWED


@FUZZ
@given(value=json_values, as_json=st.booleans())
def test_arbitrary_values(shared_daemon: Sandbox, value: Any, as_json: bool) -> None:
    text = json.dumps(value) if as_json else yaml.safe_dump(value)
    assert dry_run(shared_daemon, text) in ALLOWED


@FUZZ
@given(where=st.sampled_from(ALL_PATHS), new=scalars, as_json=st.booleans())
def test_mutated_valid_states(
    shared_daemon: Sandbox, where: tuple[Any, ...], new: Any, as_json: bool
) -> None:
    state = copy.deepcopy(VALID)
    target: Any = state
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = new
    text = json.dumps(state) if as_json else yaml.safe_dump(state)
    assert dry_run(shared_daemon, text) in ALLOWED


def test_daemon_still_serves_after_fuzzing(shared_daemon: Sandbox) -> None:
    assert dry_run(shared_daemon, yaml.safe_dump(VALID)) is None
    show = call(shared_daemon.bus_address, "Show", "a{sv}", [{}])
    assert show.error is None and "eth1" in show.message

"""nmstatectl reading what a request touched, and cutting Show's YAML, without the daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from client import main as ctl
from client.request import MAX_STATE_CHARS, read_request, simple_block_yaml
from client.result import interface_names, yaml_sections
from nmstated.schema.loader import MAX_TEXT
from tests.helpers import EXAMPLES, REPO

FLOW = "interfaces: [{name: eth2, type: ethernet, state: up, mtu: 1400}]\n"
BLOCK = """\
---
# a bridge and a port
interfaces:
- name: br0   # the bridge
  type: linux-bridge
  bridge:
    port:
    - name: eth9
- name: 'eth2'
  description: "a port"
  ipv4: {}
routes:
  config:
  - destination: 0.0.0.0/0
    next-hop-interface: eth3
route-rules:
  config:
  - ip-from: 192.0.2.0/24
    iif: eth4
    route-table: 100
"""


def test_names_come_from_block_flow_and_json_alike() -> None:
    assert read_request(FLOW).names == ("eth2",)
    assert read_request('{"interfaces": [{"name": "eth3"}, {"name": "eth4"}]}').names == (
        "eth3",
        "eth4",
    )
    block = read_request(BLOCK)
    assert block.names == ("br0", "eth2")  # not the bridge's port
    assert block.sections == ("route-rules", "routes", "interfaces")
    assert block.route_names == ("eth3", "eth4")
    assert block.all_routes_named
    # Indented sequences, as in docs/examples.
    assert read_request((EXAMPLES / "eth1-static.yml").read_text()).names == ("eth1",)
    # Plain scalars stay text, as nmstated reads them (PyYAML would make a number).
    assert read_request("interfaces: [{name: 1234}]").names == ("1234",)
    assert read_request("interfaces:\n- name: 1234\n").names == ("1234",)


def test_sections_without_interfaces() -> None:
    assert read_request("dns-resolver:\n  config:\n    server: [192.0.2.53]\n").sections == (
        "dns-resolver",
    )
    request = read_request("hostname:\n  running: box-one\n")
    assert (request.sections, request.names) == (("hostname",), ())
    unnamed = read_request(
        "routes:\n  config:\n  - destination: 0.0.0.0/0\n    route-type: blackhole\n"
    )
    assert not unnamed.all_routes_named


def test_the_simple_reader_leaves_what_it_does_not_know_to_pyyaml() -> None:
    for text in (
        "interfaces: [{name: eth6,\n  type: ethernet}]\n",
        "a: [b: c]\n",
        "a: {b}\n",
        "a: [x?y]\n",
        "a: &x 1\nb: *x\n",
        "a: |\n  text\n",
        'a: "esc\\n"\n',
        "a: 'x' # note\n",
        "a:\n  - 1\n - 2\n",
        "a: 1\n---\nb: 2\n",
        "a:\tb\n",
        "a: b: c\n",
        "a: 1\na: 2\n",
        "yes: 1\n",
        "a: multi\n  line\n",
    ):
        assert simple_block_yaml(text) is None, text
    for text in (BLOCK, FLOW, "a: [1, {b: c d, e: 'f'}, [], {}, \"g\",]\n"):
        assert simple_block_yaml(text) == yaml.load(text, Loader=yaml.BaseLoader), text


_WORDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8).filter(
    lambda word: word[0].isalpha()
)
_SCALARS = st.one_of(
    _WORDS,
    st.sampled_from(["192.0.2.1", "2001:db8::1/64", "1500", "true", "a b", "it's", "x: y", ""]),
)


def _collections(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(_WORDS, inner, max_size=3))


_VALUES = st.recursive(_SCALARS, _collections, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(_WORDS, _VALUES, min_size=1, max_size=4),
    st.sampled_from([2, 4]),
    st.sampled_from([False, None, True]),
    st.sampled_from([80, 1000]),
)
def test_the_simple_reader_agrees_with_pyyaml(
    data: dict[str, Any], indent: int, flow: bool | None, width: int
) -> None:
    """Whatever it reads, it reads as PyYAML's BaseLoader does (every scalar as text)."""
    text = yaml.safe_dump(
        data, default_flow_style=flow, sort_keys=False, indent=indent, width=width
    )
    parsed = simple_block_yaml(text)
    if parsed is not None:
        assert parsed == yaml.load(text, Loader=yaml.BaseLoader)


def test_the_simple_reader_takes_what_show_writes() -> None:
    state = {
        "route-rules": {"config": []},
        "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-interface": "eth1"}]},
        "interfaces": [
            {"name": "eth1", "type": "ethernet", "mtu": 1500, "ipv4": {"enabled": True}},
            {"name": "lo", "mac-address": "00:00:00:00:00:00", "ipv6": {"address": []}},
        ],
    }
    text = yaml.safe_dump(state, default_flow_style=False, sort_keys=False)
    assert simple_block_yaml(text) == yaml.load(text, Loader=yaml.BaseLoader)


def test_usual_yaml_and_json_are_read_without_importing_pyyaml() -> None:
    probe = (
        "import sys\nfrom client.request import read_request\n"
        "for text in sys.argv[1:]:\n"
        "    print(read_request(text).names, 'yaml' in sys.modules)\n"
    )
    texts = [
        BLOCK,
        '{"interfaces": [{"name": "eth3"}]}',
        FLOW,
        "interfaces: [{name: eth6,\n x: y}]",
    ]
    result = subprocess.run(
        [sys.executable, "-c", probe, *texts], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "('br0', 'eth2') False",
        "('eth3',) False",
        "('eth2',) False",
        "('eth6',) True",  # a flow collection over several lines: PyYAML reads it
    ]


def test_show_yaml_cut_into_sections() -> None:
    state = {
        "hostname": {"running": "box", "config": "box"},
        "dns-resolver": {"config": {"server": ["192.0.2.53"]}, "running": {}},
        "route-rules": {"config": [{"ip-from": "192.0.2.0/24", "route-table": 100}]},
        "routes": {"config": [], "running": []},
        "interfaces": [
            {"name": "yes", "description": "a long text " * 12},
            {"type": "linux-bridge", "name": "br0", "bridge": {"port": [{"name": "eth9"}]}},
            {"name": "1234"},
            {"name": "eth1"},
        ],
    }
    text = yaml.safe_dump(state, default_flow_style=False, sort_keys=False)
    sections = yaml_sections(text)
    assert list(sections) == list(state)
    for key, part in sections.items():
        assert yaml.safe_load(part) == {key: state[key]}
    assert interface_names(text) == ["yes", "br0", "1234", "eth1"]


def test_limit_is_the_daemons() -> None:
    assert MAX_STATE_CHARS == MAX_TEXT


@pytest.mark.parametrize("size", [MAX_STATE_CHARS + 1, 4 * MAX_STATE_CHARS + 10])
def test_input_over_the_limit_is_invalid_in_one_line(
    size: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    big = tmp_path / "big.yml"
    with big.open("w") as handle:
        handle.write("#" * size)
    assert ctl.main(["apply", str(big)]) == 65  # before the bus is touched
    err = capsys.readouterr().err
    assert err == (
        f"nmstatectl: error: {big}: larger than nmstated accepts ({MAX_TEXT} characters)\n"
    )


def test_input_at_the_limit_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"interfaces": []}).ljust(MAX_STATE_CHARS))
    assert ctl.main(["apply", str(big)]) == 69  # read, then the bus is missing
    assert "cannot reach the system bus" in capsys.readouterr().err

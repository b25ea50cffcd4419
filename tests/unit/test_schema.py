"""parse_state/validate_state: the schema, the messages and the semantic checks."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest
import yaml

from nmstated.errors import InvalidArgument
from nmstated.schema import SCHEMA, new_interface_problems, parse_state, validate_state
from nmstated.schema.validate import SECTION_TYPES, format_path


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidArgument) as info:
        parse_state(text)
    message = info.value.message
    assert "\n" not in message
    return message.split("; ")


def state_problems(value: object) -> list[str]:
    with pytest.raises(InvalidArgument) as info:
        validate_state(value)
    return info.value.message.split("; ")


# ---------------------------------------------------------------------------
# the example messages of the specification, with their exact paths

EXAMPLES = """\
interfaces:
- name: eth0
  ipv5: {}
- name: eth1
  mac-address: 12:34
- name: eth2
  ipv4:
    address:
    - ip: 192.0.2.1
      prefix-length: 33
"""


def test_example_messages() -> None:
    assert problems(EXAMPLES) == [
        "interfaces[0]: unknown key 'ipv5'",
        "interfaces[1].mac-address: '12:34' is not a MAC address",
        "interfaces[2].ipv4.address[0].prefix-length: 33 is above 32",
    ]


def test_example_duplicate_key() -> None:
    text = "interfaces:\n- name: eth0\n  type: ethernet\n  name: eth1\n"
    assert problems(text) == ["line 4: duplicate key 'name'"]


def test_example_top_level_list() -> None:
    assert problems("- name: eth0\n") == [
        "top level: expected a mapping with keys like 'interfaces', got a list"
    ]


def test_example_tab() -> None:
    text = (
        "interfaces:\n- name: eth0\n  ipv4:\n    enabled: true\n    address:\n"
        "    - ip: 1.2.3.4\n\t  prefix-length: 24\n"
    )
    assert problems(text) == ["line 7: tab in indentation"]


def test_loader_and_schema_problems_are_reported_together() -> None:
    text = "interfaces:\n- name: eth0\n  mtu: 0\n  mtu: 1\n- name: eth0\n"
    assert problems(text) == [
        "line 4: duplicate key 'mtu'",
        "interfaces[0].mtu: 0 is below 68",
        "interfaces[1]: duplicate interface 'eth0' (first at interfaces[0])",
    ]


# ---------------------------------------------------------------------------
# bad inputs: (id, text, every expected message)

IFACE = "interfaces:\n- name: eth0\n"

BAD: list[tuple[str, str, list[str]]] = [
    ("not-yaml", "interfaces: [\n", ["line 2: invalid YAML: did not find expected node content"]),
    (
        "top-list",
        "- a\n- b\n",
        ["top level: expected a mapping with keys like 'interfaces', got a list"],
    ),
    (
        "top-scalar",
        "hello\n",
        ["top level: expected a mapping with keys like 'interfaces', got the text 'hello'"],
    ),
    (
        "top-number",
        "42\n",
        ["top level: expected a mapping with keys like 'interfaces', got the number 42"],
    ),
    (
        "empty",
        "",
        ["top level: the document is empty, expected a mapping with keys like 'interfaces'"],
    ),
    (
        "comment-only",
        "# nothing\n",
        ["top level: the document is empty, expected a mapping with keys like 'interfaces'"],
    ),
    ("unknown-top-key", "interface: []\n", ["top level: unknown key 'interface'"]),
    (
        "interfaces-not-list",
        "interfaces: {name: eth0}\n",
        ["interfaces: expected a list, got a mapping"],
    ),
    (
        "address-not-ip",
        IFACE + "  ipv4: {address: [{ip: 192.0.2.256, prefix-length: 24}]}\n",
        ["interfaces[0].ipv4.address[0].ip: '192.0.2.256' is not an IPv4 address"],
    ),
    (
        "ipv6-in-ipv4",
        IFACE + "  ipv4: {address: [{ip: 2001:db8::1, prefix-length: 24}]}\n",
        ["interfaces[0].ipv4.address[0].ip: '2001:db8::1' is not an IPv4 address"],
    ),
    (
        "ipv4-in-ipv6",
        IFACE + "  ipv6: {address: [{ip: 192.0.2.1, prefix-length: 64}]}\n",
        ["interfaces[0].ipv6.address[0].ip: '192.0.2.1' is not an IPv6 address"],
    ),
    (
        "prefix-33",
        IFACE + "  ipv4: {address: [{ip: 192.0.2.1, prefix-length: 33}]}\n",
        ["interfaces[0].ipv4.address[0].prefix-length: 33 is above 32"],
    ),
    (
        "prefix-129",
        IFACE + "  ipv6: {address: [{ip: '::1', prefix-length: 129}]}\n",
        ["interfaces[0].ipv6.address[0].prefix-length: 129 is above 128"],
    ),
    (
        "prefix-missing",
        IFACE + "  ipv4: {address: [{ip: 192.0.2.1}]}\n",
        ["interfaces[0].ipv4.address[0]: missing required key 'prefix-length'"],
    ),
    ("mtu-0", IFACE + "  mtu: 0\n", ["interfaces[0].mtu: 0 is below 68"]),
    ("mtu-big", IFACE + "  mtu: 65536\n", ["interfaces[0].mtu: 65536 is above 65535"]),
    (
        "mtu-quoted",
        IFACE + "  mtu: '1500'\n",
        ["interfaces[0].mtu: expected an integer, got the text '1500'"],
    ),
    (
        "mtu-float",
        IFACE + "  mtu: 1e3\n",
        ["interfaces[0].mtu: expected an integer, got the number 1e3"],
    ),
    (
        "mtu-leading-zero",
        IFACE + "  mtu: 01500\n",
        [
            "interfaces[0].mtu: '01500' has a leading zero, which YAML 1.1 reads as octal"
            " (write the number without it)"
        ],
    ),
    (
        "vlan-id-hex",
        "interfaces:\n- name: v\n  type: vlan\n  vlan: {base-iface: eth0, id: 0x1f}\n",
        ["interfaces[0].vlan.id: '0x1f' is not a decimal integer (write 31)"],
    ),
    (
        "vlan-id-octal",
        "interfaces:\n- name: v\n  type: vlan\n  vlan: {base-iface: eth0, id: 0o17}\n",
        ["interfaces[0].vlan.id: '0o17' is not a decimal integer (write 15)"],
    ),
    (
        "vlan-id-4095",
        "interfaces:\n- name: v\n  type: vlan\n  vlan: {base-iface: eth0, id: 4095}\n",
        ["interfaces[0].vlan.id: 4095 is above 4094"],
    ),
    (
        "yes-for-bool",
        IFACE + "  accept-all-mac-addresses: yes\n",
        ["interfaces[0].accept-all-mac-addresses: 'yes' is not a boolean (write true or false)"],
    ),
    (
        "on-for-bool",
        IFACE + "  ipv4: {enabled: on}\n",
        ["interfaces[0].ipv4.enabled: 'on' is not a boolean (write true or false)"],
    ),
    (
        "number-for-bool",
        IFACE + "  ipv4: {dhcp: 1}\n",
        ["interfaces[0].ipv4.dhcp: expected true or false, got the number 1"],
    ),
    (
        "name-too-long",
        "interfaces:\n- name: averyveryverylongname\n",
        ["interfaces[0].name: 'averyveryverylongname' is longer than 15 bytes"],
    ),
    (
        "name-multibyte-too-long",
        "interfaces:\n- name: ééééééééé\n",
        ["interfaces[0].name: 'ééééééééé' is longer than 15 bytes"],
    ),
    ("name-slash", "interfaces:\n- name: a/b\n", ["interfaces[0].name: 'a/b' contains '/'"]),
    ("name-colon", "interfaces:\n- name: 'a:b'\n", ["interfaces[0].name: 'a:b' contains ':'"]),
    (
        "name-space",
        "interfaces:\n- name: 'a b'\n",
        ["interfaces[0].name: 'a b' contains whitespace"],
    ),
    (
        "name-dotdot",
        "interfaces:\n- name: ..\n",
        ["interfaces[0].name: '..' is not allowed as an interface name"],
    ),
    ("name-empty", "interfaces:\n- name: ''\n", ["interfaces[0].name: the name is empty"]),
    (
        "name-null",
        "interfaces:\n- name:\n",
        ["interfaces[0].name: expected a string, got nothing (null)"],
    ),
    (
        "name-missing",
        "interfaces:\n- type: dummy\n",
        ["interfaces[0]: missing required key 'name'"],
    ),
    (
        "duplicate-key",
        "interfaces:\n- name: eth0\n  mtu: 1500\n  mtu: 1400\n",
        ["line 4: duplicate key 'mtu'"],
    ),
    ("tab", "interfaces:\n-\tname: eth0\n\t  mtu: 1500\n", ["line 3: tab in indentation"]),
    (
        "nbsp",
        "interfaces:\n- name: eth0\n\u00a0 mtu: 1500\n",
        ["line 3: no-break space (U+00A0) in indentation"],
    ),
    (
        "wrong-section",
        "interfaces:\n- name: eth0\n  type: ethernet\n  bridge: {}\n",
        ["interfaces[0]: section 'bridge' does not belong to type 'ethernet'"],
    ),
    (
        "wrong-section-vlan-on-bond",
        "interfaces:\n- name: b\n  type: bond\n  vlan: {base-iface: x, id: 1}\n",
        ["interfaces[0]: section 'vlan' does not belong to type 'bond'"],
    ),
    (
        "mixed-sections-without-type",
        "interfaces:\n- name: x\n  bridge: {}\n  veth: {peer: y}\n",
        ["interfaces[0]: sections 'bridge' and 'veth' belong to different interface types"],
    ),
    (
        "bad-state",
        IFACE + "  state: upp\n",
        ["interfaces[0].state: 'upp' is not one of up, down, absent, ignore"],
    ),
    (
        "bad-type",
        IFACE + "  type: ovs-bridge\n",
        [
            "interfaces[0].type: 'ovs-bridge' is not one of ethernet, veth, linux-bridge, vxlan,"
            " mac-vlan, bond, vlan, dummy, vrf, loopback, tun, unknown"
        ],
    ),
    (
        "bad-bond-mode",
        "interfaces:\n- name: b\n  type: bond\n  link-aggregation: {mode: lacp}\n",
        [
            "interfaces[0].link-aggregation.mode: 'lacp' is not one of balance-rr, active-backup,"
            " balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb"
        ],
    ),
    (
        "duplicate-interface",
        "interfaces:\n- name: eth0\n- name: eth1\n- name: eth0\n",
        ["interfaces[2]: duplicate interface 'eth0' (first at interfaces[0])"],
    ),
    (
        "duplicate-address",
        IFACE
        + "  ipv6:\n    address:\n    - {ip: '2001:db8::1', prefix-length: 64}\n"
        + "    - {ip: '2001:0db8:0::1', prefix-length: 48}\n",
        ["interfaces[0].ipv6.address[1]: address 2001:db8::1 is listed twice (also at address[0])"],
    ),
    (
        "autoconf-without-dhcp",
        IFACE + "  ipv6: {enabled: true, autoconf: true, dhcp: false}\n",
        ["interfaces[0].ipv6.autoconf: autoconf: true needs dhcp: true"],
    ),
    (
        "autoconf-in-ipv4",
        IFACE + "  ipv4: {autoconf: true}\n",
        ["interfaces[0].ipv4: unknown key 'autoconf'"],
    ),
    (
        "dhcp-while-disabled",
        IFACE + "  ipv4: {enabled: false, dhcp: true}\n",
        ["interfaces[0].ipv4.dhcp: dhcp: true conflicts with enabled: false"],
    ),
    (
        "bad-mac",
        IFACE + "  mac-address: 12:34:56:78:9a:zz\n",
        ["interfaces[0].mac-address: '12:34:56:78:9a:zz' is not a MAC address"],
    ),
    (
        "vlan-without-base-iface",
        "interfaces:\n- name: v\n  type: vlan\n  vlan: {id: 10}\n",
        ["interfaces[0].vlan: missing required key 'base-iface'"],
    ),
    (
        "mac-vlan-bad-mode",
        "interfaces:\n- name: m\n  type: mac-vlan\n  mac-vlan: {base-iface: eth0, mode: vepa2}\n",
        [
            "interfaces[0].mac-vlan.mode: 'vepa2' is not one of vepa, bridge, private,"
            " passthru, source"
        ],
    ),
    (
        "trunk-tag-empty",
        "interfaces:\n- name: br0\n  type: linux-bridge\n  bridge:\n    port:\n"
        "    - name: eth0\n      vlan: {mode: trunk, trunk-tags: [{}]}\n",
        [
            "interfaces[0].bridge.port[0].vlan.trunk-tags[0]:"
            " needs exactly one of 'id' or 'id-range'"
        ],
    ),
    (
        "stp-out-of-range",
        "interfaces:\n- name: br0\n  type: linux-bridge\n  bridge:\n"
        "    options: {stp: {forward-delay: 1, hello-time: 11}}\n",
        [
            "interfaces[0].bridge.options.stp.forward-delay: 1 is below 2",
            "interfaces[0].bridge.options.stp.hello-time: 11 is above 10",
        ],
    ),
    (
        "route-missing-destination",
        "routes:\n  config:\n  - next-hop-interface: eth0\n",
        ["routes.config[0]: missing required key 'destination'"],
    ),
    (
        "route-bad-destination",
        "routes:\n  config:\n  - destination: 10.0.0.0/33\n",
        ["routes.config[0].destination: '10.0.0.0/33' is not an IP network like 192.0.2.0/24"],
    ),
    (
        "route-through-absent",
        "interfaces:\n- name: eth1\n  state: absent\nroutes:\n  config:\n"
        "  - destination: 0.0.0.0/0\n    next-hop-interface: eth1\n",
        ["routes.config[0].next-hop-interface: 'eth1' is marked absent in this request"],
    ),
    (
        "route-through-disabled-family",
        "interfaces:\n- name: eth1\n  ipv6: {enabled: false}\nroutes:\n  config:\n"
        "  - destination: '::/0'\n    next-hop-interface: eth1\n",
        [
            "routes.config[0].next-hop-interface: 'eth1' has ipv6 enabled: false"
            " (interfaces[0].ipv6)"
        ],
    ),
    (
        "route-mixed-family",
        "routes:\n  config:\n  - destination: 10.0.0.0/8\n    next-hop-address: 2001:db8::1\n",
        ["routes.config[0].next-hop-address: IPv6 next hop for an IPv4 destination"],
    ),
    (
        "route-state-present",
        "routes:\n  config:\n  - destination: 10.0.0.0/8\n    state: present\n",
        ["routes.config[0].state: 'present' is not allowed, the only value is absent"],
    ),
    (
        "rule-bad-family",
        "route-rules:\n  config:\n  - family: ipv5\n",
        ["route-rules.config[0].family: 'ipv5' is not one of ipv4, ipv6"],
    ),
    (
        "rule-bad-fwmark",
        "route-rules:\n  config:\n  - fwmark: 0xzz\n",
        ["route-rules.config[0].fwmark: '0xzz' is not a 32-bit number (decimal, or hex like 0x1f)"],
    ),
    (
        "dns-server-not-ip",
        "dns-resolver:\n  config:\n    server: [dns.example.com]\n",
        ["dns-resolver.config.server[0]: 'dns.example.com' is not an IP address"],
    ),
    (
        "json-duplicate",
        '{\n  "interfaces": [\n    {"name": "eth0",\n     "name": "eth1"}\n  ]\n}',
        ["line 4: duplicate key 'name'"],
    ),
    (
        "json-name-number",
        '{"interfaces": [{"name": 1234}]}',
        ["interfaces[0].name: expected a string, got the number 1234"],
    ),
    (
        "json-syntax",
        '{"interfaces": [\n  {"name": "eth0"},\n]}',
        ["line 3: invalid JSON: Expecting value (text starting with '{' is read as JSON)"],
    ),
    (
        "several-documents",
        "a: 1\n---\nb: 2\n",
        ["line 2: a second YAML document (send exactly one)"],
    ),
    (
        "alias-before-anchor",
        "interfaces:\n- name: eth0\n  ipv4: *v4\n- name: eth1\n  ipv4: &v4 {enabled: false}\n",
        ["line 3: alias *v4 does not follow a complete &v4"],
    ),
    (
        "binary-tag",
        "description: !!binary aGk=\n",
        ["line 1: tag 'tag:yaml.org,2002:binary' is not supported"],
    ),
    (
        "hostname-list",
        "hostname: {config: [a]}\n",
        ["hostname.config: expected a string, got a list"],
    ),
    (
        "port-of-two-bridges",
        "interfaces:\n- {name: br0, type: linux-bridge, bridge: {port: [{name: eth1}]}}\n"
        "- {name: br1, type: linux-bridge, bridge: {port: [{name: eth1}]}}\n",
        [
            "interfaces[1].bridge.port[0].name: 'eth1' is already a port of br0 "
            "(interfaces[0].bridge.port[0].name)"
        ],
    ),
    (
        "bridge-its-own-port",
        "interfaces:\n- {name: br0, type: linux-bridge, bridge: {port: [{name: br0}]}}\n",
        ["interfaces[0].bridge.port[0].name: 'br0' cannot be a port of itself"],
    ),
    (
        "multicast-mac",
        'interfaces:\n- {name: eth1, type: ethernet, mac-address: "01:00:5E:00:00:01"}\n',
        ["interfaces[0].mac-address: 01:00:5E:00:00:01 is a multicast address (odd first octet)"],
    ),
    (
        "hostname-with-space",
        "hostname: {running: bad_host name}\n",
        [
            "hostname.running: is not a host name: dot-separated labels of letters, digits and "
            "inner hyphens, each at most 63 characters, 253 in all (RFC 1123)"
        ],
    ),
    (
        "hostname-running-empty",
        'hostname: {running: ""}\n',
        [
            "hostname.running: is not a host name: dot-separated labels of letters, digits and "
            "inner hyphens, each at most 63 characters, 253 in all (RFC 1123)"
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in BAD], ids=[i for i, _, _ in BAD]
)
def test_bad_input(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_bad_table_is_big_enough() -> None:
    assert len({name for name, _, _ in BAD}) == len(BAD) >= 25


def test_messages_never_show_schema_internals() -> None:
    text = (
        "interfaces:\n- name: br0\n  type: linux-bridge\n  bridge:\n"
        "    port: [{name: a, vlan: {trunk-tags: [{id: 1, id-range: {min: 1, max: 2}}]}}]\n"
        "  foo: {bar: 1}\n"
    )
    message = "; ".join(problems(text))
    for leaked in ("{'", "$ref", "oneOf", "additionalProperties", "Traceback", "\n"):
        assert leaked not in message


# ---------------------------------------------------------------------------
# text kept as written where a string is wanted


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("name: 1234", "name", "1234"),
        ("name: 024", "name", "024"),
        ("name: 0x1f", "name", "0x1f"),
        ("name: 1e3", "name", "1e3"),
        ("name: yes", "name", "yes"),
        ("name: 'true'", "name", "true"),
        ("name: true", "name", "true"),
        ("name: 1.50", "name", "1.50"),
        ("mac-address: 12:34:56:00:00:01", "mac-address", "12:34:56:00:00:01"),
        ("mac-address: 02:00:00:00:00:00", "mac-address", "02:00:00:00:00:00"),
        ("description: 1:30", "description", "1:30"),
        ("profile-name: 2024", "profile-name", "2024"),
        ("mtu: 1500", "mtu", 1500),
        ("accept-all-mac-addresses: true", "accept-all-mac-addresses", True),
        ("accept-all-mac-addresses: False", "accept-all-mac-addresses", False),
    ],
)
def test_scalar_kept_as_written(line: str, key: str, expected: object) -> None:
    text = "interfaces:\n- " + (line if key == "name" else f"name: eth0\n  {line}") + "\n"
    iface = parse_state(text)["interfaces"][0]
    assert iface[key] == expected
    assert type(iface[key]) is type(expected)


def test_ipv6_addresses_are_kept() -> None:
    state = parse_state(
        "interfaces:\n- name: eth0\n  ipv6:\n    address:\n"
        "    - ip: 2001:db8::1\n      prefix-length: 64\n"
        "    - ip: fe80::1:2:3\n      prefix-length: 64\n"
        "    - ip: ::ffff:192.0.2.1\n      prefix-length: 128\n"
        "dns-resolver:\n  config:\n    server: [2001:db8::53, fe80::1%eth0]\n"
    )
    assert [a["ip"] for a in state["interfaces"][0]["ipv6"]["address"]] == [
        "2001:db8::1",
        "fe80::1:2:3",
        "::ffff:192.0.2.1",
    ]
    assert state["dns-resolver"]["config"]["server"] == ["2001:db8::53", "fe80::1%eth0"]


def test_free_form_bond_options_keep_text() -> None:
    state = parse_state(
        "interfaces:\n- name: bond0\n  type: bond\n  link-aggregation:\n    mode: 802.3ad\n"
        "    options: {miimon: 100, lacp_rate: fast, use_carrier: yes, arp_validate: 0x1}\n"
        "    port: [1234, eth1]\n"
    )
    bond = state["interfaces"][0]["link-aggregation"]
    assert bond["options"] == {
        "miimon": 100,
        "lacp_rate": "fast",
        "use_carrier": "yes",
        "arp_validate": "0x1",
    }
    assert bond["port"] == ["1234", "eth1"]
    assert bond["mode"] == "802.3ad"


def test_result_holds_only_plain_types() -> None:
    state = parse_state(REALISTIC)

    def walk(value: Any) -> None:
        assert type(value) in (dict, list, str, int, bool, type(None))
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(state)


# ---------------------------------------------------------------------------
# valid documents

REALISTIC = """\
# A host with a bridge over a bond, a VXLAN overlay, a VRF and static routes.
description: rack 7, host 01
hostname:
  config: host-01
dns-resolver:
  config:
    server:
    - 192.0.2.53
    - 2001:db8::53
    search:
    - example.com
    options:
    - ndots:2
    - rotate
interfaces:
- name: eth1
  type: ethernet
  state: up
  mtu: 9000
  mac-address: 52:54:00:12:34:56
  ipv4:
    enabled: false
  ipv6:
    enabled: false
- name: eth2
  type: ethernet
  ethernet:
    speed: 10000
    duplex: full
    auto-negotiation: false
- name: bond0
  type: bond
  state: up
  link-aggregation:
    mode: 802.3ad
    options:
      miimon: 100
      lacp_rate: fast
      xmit_hash_policy: layer3+4
    port:
    - eth1
    - eth2
- name: br0
  type: linux-bridge
  description: main bridge
  lldp:
    enabled: false
  ipv4:
    enabled: true
    dhcp: false
    address:
    - ip: 192.0.2.10
      prefix-length: 24
  ipv6:
    enabled: true
    dhcp: true
    autoconf: true
    addr-gen-mode: stable-privacy
    auto-dns: false
    auto-route-table-id: 100
    address:
    - ip: 2001:db8:1::10
      prefix-length: 64
  bridge:
    options:
      stp:
        enabled: true
        forward-delay: 15
        hello-time: 2
        max-age: 20
        priority: 32768
      mac-ageing-time: 300
      multicast-snooping: true
      multicast-router: auto
      group-forward-mask: 0
      hash-max: 4096
      vlan-protocol: 802.1q
      vlan-default-pvid: 1
    port:
    - name: bond0
      stp-hairpin-mode: false
      stp-path-cost: 100
      stp-priority: 32
      vlan:
        mode: trunk
        enable-native: true
        tag: 1
        trunk-tags:
        - id: 100
        - id-range:
            min: 200
            max: 299
    - name: vxlan100
- name: vxlan100
  type: vxlan
  mtu: 8950
  controller: br0
  vxlan:
    base-iface: eth3
    id: 100
    remote: 198.51.100.7
    local: 192.0.2.10
    destination-port: 4789
    learning: false
- name: br0.200
  type: vlan
  vlan:
    base-iface: br0
    id: 200
    protocol: 802.1q
- name: macvlan0
  type: mac-vlan
  mac-vlan:
    base-iface: eth2
    mode: bridge
    promiscuous: true
- name: vrf-blue
  type: vrf
  vrf:
    port:
    - br0.200
    route-table-id: 100
- name: veth0
  type: veth
  veth:
    peer: veth0-ns
- name: dummy0
  type: dummy
  state: down
  accept-all-mac-addresses: false
- name: lo
  type: loopback
  mtu: 65536
- name: old0
  state: absent
routes:
  config:
  - destination: 0.0.0.0/0
    next-hop-interface: br0
    next-hop-address: 192.0.2.1
    metric: 100
    table-id: 254
  - destination: 2001:db8:ffff::/48
    next-hop-interface: br0
    next-hop-address: 2001:db8:1::1
    weight: 10
  - destination: 203.0.113.0/24
    route-type: blackhole
  - destination: 198.51.100.0/24
    state: absent
  - state: absent
    next-hop-interface: old0
route-rules:
  config:
  - family: ipv4
    ip-from: 192.0.2.0/24
    priority: 1000
    route-table: 100
    fwmark: 0x10
    fwmask: 255
  - family: ipv6
    ip-to: 2001:db8::/32
    action: prohibit
    iif: br0
    suppress-prefix-length: 0
"""


def test_realistic_file() -> None:
    state = parse_state(REALISTIC)
    names = [iface["name"] for iface in state["interfaces"]]
    assert names[:4] == ["eth1", "eth2", "bond0", "br0"]
    assert state["interfaces"][0]["mac-address"] == "52:54:00:12:34:56"
    br0 = state["interfaces"][3]
    assert br0["bridge"]["options"]["stp"]["priority"] == 32768
    assert br0["bridge"]["port"][0]["vlan"]["trunk-tags"][1] == {
        "id-range": {"min": 200, "max": 299}
    }
    assert br0["ipv6"]["address"] == [{"ip": "2001:db8:1::10", "prefix-length": 64}]
    assert state["interfaces"][5]["name"] == "br0.200"
    assert state["routes"]["config"][1]["next-hop-address"] == "2001:db8:1::1"
    assert state["route-rules"]["config"][0]["fwmark"] == "0x10"
    assert state["route-rules"]["config"][0]["fwmask"] == 255
    assert state["dns-resolver"]["config"]["options"] == ["ndots:2", "rotate"]
    assert state["hostname"] == {"config": "host-01"}


def test_realistic_file_round_trips() -> None:
    state = parse_state(REALISTIC)
    assert parse_state(json.dumps(state)) == state
    assert parse_state(json.dumps(state, indent=2)) == state
    assert parse_state(yaml.safe_dump(state)) == state
    assert validate_state(state) == state
    assert validate_state(state) is not state


def test_aliases_for_shared_values() -> None:
    shared = {"enabled": False}
    text = yaml.safe_dump(
        {"interfaces": [{"name": "a", "ipv4": shared}, {"name": "b", "ipv4": shared}]}
    )
    assert "&id001" in text
    state = parse_state(text)
    assert state["interfaces"][1]["ipv4"] == {"enabled": False}
    assert state["interfaces"][0]["ipv4"] is not state["interfaces"][1]["ipv4"]


def test_text_starting_with_a_brace_is_json_only() -> None:
    flow_yaml = yaml.safe_dump({"interfaces": [{"name": "eth0"}]}, default_flow_style=True)
    assert flow_yaml.startswith("{")
    assert problems(flow_yaml) == [
        "line 1: invalid JSON: Expecting property name enclosed in double quotes"
        " (text starting with '{' is read as JSON)"
    ]
    assert parse_state("---\n" + flow_yaml) == {"interfaces": [{"name": "eth0"}]}


SHOW_OUTPUT = """\
interfaces:
- name: lo
  type: loopback
  state: up
  mtu: 65536
  accept-all-mac-addresses: false
  ipv4:
    enabled: true
    dhcp: false
    address:
    - ip: 127.0.0.1
      prefix-length: 8
  ipv6:
    enabled: true
    dhcp: false
    autoconf: false
    address:
    - ip: ::1
      prefix-length: 128
- name: tun0
  type: tun
  state: up
  mtu: 1500
- name: weird0
  type: unknown
  state: ignore
routes:
  running:
  - destination: 192.0.2.0/24
    next-hop-interface: eth0
    next-hop-address: ''
    metric: 100
    table-id: 254
  config: []
route-rules:
  config: []
dns-resolver:
  running:
    server: [192.0.2.53]
    search: []
  config: {}
hostname:
  running: host-01
  config: host-01
"""


def test_show_style_output_is_accepted() -> None:
    state = parse_state(SHOW_OUTPUT)
    assert state["interfaces"][0]["ipv6"]["address"][0]["ip"] == "::1"
    assert parse_state(yaml.safe_dump(state)) == state


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "interfaces: []\n",
        "interfaces:\n- name: eth0\n",
        "interfaces:\n- name: old\n  state: absent\n",
        "interfaces:\n- name: old\n  state: absent\n  type: vlan\n  vlan: {id: 5}\n",
        "interfaces:\n- name: eth0\n  type: ethernet\n  veth: {peer: x}\n  type: veth\n".replace(
            "  type: ethernet\n", ""
        ),
        "interfaces:\n- name: v0\n  type: veth\n  state: up\n",  # may already exist
        "interfaces:\n- name: eth0.5\n  type: vlan\n",  # existing vlan, no section
        "interfaces:\n- name: eth0\n  controller: ''\n",
        "interfaces:\n- name: eth0\n  ipv6: {autoconf: true}\n",
        "interfaces:\n- name: eth0\n  ipv6: {enabled: true}\n  mtu: 1280\n",
        "routes:\n  config:\n  - state: absent\n",
        "routes:\n  config:\n  - destination: 192.0.2.7\n",
        'description: "a\\u00a0quoted no-break space is fine"\n',
    ],
)
def test_valid(text: str) -> None:
    state = parse_state(text)
    assert isinstance(state, dict)
    assert validate_state(state) == state


# ---------------------------------------------------------------------------
# validate_state on loaded values


def test_validate_state_reports_non_json_values() -> None:
    assert state_problems({"interfaces": [{"name": b"eth0"}]}) == [
        "interfaces[0].name: unsupported value of type bytes"
    ]
    assert state_problems({1: "x"}) == ["top level: key 1 is not a string"]
    assert state_problems({"interfaces": [{"name": "a", "mtu": float("inf")}]}) == [
        "interfaces[0].mtu: inf is not a number"
    ]
    assert state_problems({"interfaces": [{"name": "a", "mtu": 1500.0}]}) == [
        "interfaces[0].mtu: expected an integer, got the number 1500.0"
    ]
    assert state_problems(None) == [
        "top level: expected a mapping with keys like 'interfaces', got nothing (null)"
    ]
    assert state_problems("interfaces: []") == [
        "top level: expected a mapping with keys like 'interfaces', got the text 'interfaces: []'"
    ]


def test_validate_state_accepts_tuples_and_returns_lists() -> None:
    assert validate_state({"interfaces": ({"name": "eth0"},)}) == {"interfaces": [{"name": "eth0"}]}


def test_validate_state_survives_cycles() -> None:
    state: dict[str, Any] = {}
    state["interfaces"] = [state]
    found = state_problems(state)
    assert "top level: the value is nested more than 32 levels deep" in found


def test_long_values_are_shortened_in_messages() -> None:
    found = problems("interfaces:\n- name: " + "x" * 500 + "\n")
    assert len(found[0]) < 120


# ---------------------------------------------------------------------------
# new_interface_problems


def test_new_interface_problems() -> None:
    state = parse_state(
        "interfaces:\n"
        "- {name: v0, type: veth}\n"
        "- {name: v1, type: veth, veth: {peer: v1p}}\n"
        "- {name: vl, type: vlan, vlan: {base-iface: eth9, id: 5}}\n"
        "- {name: vx, type: vxlan}\n"
        "- {name: bo, type: bond}\n"
        "- {name: eth5, type: ethernet}\n"
        "- {name: x}\n"
        "- {name: br, type: linux-bridge,"
        " bridge: {port: [{name: eth0}, {name: gone}, {name: v1}]}}\n"
        "- {name: gone, state: absent}\n"
        "- {name: vr, type: vrf}\n"
        "- {name: mv, type: mac-vlan, mac-vlan: {base-iface: eth0}}\n"
        "- {name: d0, type: dummy, controller: br}\n"
        "- {name: eth0, mtu: 1400}\n"
    )
    assert new_interface_problems(state, {"eth0", "gone"}) == [
        "interfaces[0]: new veth 'v0' needs veth.peer",
        "interfaces[2].vlan.base-iface: interface 'eth9' does not exist",
        "interfaces[3]: new vxlan 'vx' needs vxlan.base-iface",
        "interfaces[3]: new vxlan 'vx' needs vxlan.id",
        "interfaces[4]: new bond 'bo' needs link-aggregation.mode",
        "interfaces[5]: ethernet 'eth5' does not exist and cannot be created",
        "interfaces[6]: 'x' does not exist and a new interface needs a type",
        "interfaces[7].bridge.port[1].name: interface 'gone' does not exist",
        "interfaces[9]: new vrf 'vr' needs vrf.route-table-id",
    ]


def test_existing_interfaces_need_nothing_new() -> None:
    state = parse_state(
        "interfaces:\n- {name: v0, type: veth}\n- {name: vl, type: vlan}\n- {name: x, mtu: 1400}\n"
        "- {name: nothere, state: absent}\n- {name: down0, type: veth, state: down}\n"
    )
    assert new_interface_problems(state, {"v0", "vl", "x"}) == []


# ---------------------------------------------------------------------------
# the schema document


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_rejects_unknown_keys_everywhere() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(SCHEMA, "#")


def test_section_types() -> None:
    assert SECTION_TYPES["bridge"] == {"linux-bridge"}
    assert SECTION_TYPES["link-aggregation"] == {"bond"}
    assert set(SECTION_TYPES) == {
        "ethernet",
        "veth",
        "bridge",
        "vxlan",
        "mac-vlan",
        "link-aggregation",
        "vlan",
        "vrf",
    }


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "top level"),
        (("interfaces",), "interfaces"),
        (
            ("interfaces", 2, "ipv4", "address", 0, "prefix-length"),
            "interfaces[2].ipv4.address[0].prefix-length",
        ),
        (("routes", "config", 0), "routes.config[0]"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def _fifty_interfaces() -> str:
    lines = ["interfaces:"]
    for i in range(50):
        lines += [
            f"- name: eth{i}",
            "  type: ethernet",
            "  state: up",
            "  mtu: 1500",
            f"  mac-address: 12:34:56:00:00:{i:02x}",
            "  ipv4:",
            "    enabled: true",
            "    dhcp: false",
            "    address:",
            f"    - ip: 10.0.{i}.1",
            "      prefix-length: 24",
            "  ipv6:",
            "    enabled: true",
            "    dhcp: false",
            "    autoconf: false",
            "    address:",
            f"    - ip: 2001:db8:{i:x}::1",
            "      prefix-length: 64",
        ]
    return "\n".join(lines) + "\n"


def test_fifty_interfaces_parse_quickly() -> None:
    text = _fifty_interfaces()
    parse_state(text)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        state = parse_state(text)
        best = min(best, time.perf_counter() - start)
    assert len(state["interfaces"]) == 50
    assert best < 0.05, f"parse_state took {best * 1000:.1f} ms"

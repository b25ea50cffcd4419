"""What nmstatectl prints after apply and for show, against the real NetworkManager."""

from __future__ import annotations

import json
from typing import Any

import yaml

from sandbox import Sandbox
from tests.helpers import EXAMPLES, Ctl


def applied(ctl: Ctl, text: str) -> dict[str, Any]:
    """Apply *text* from stdin; what nmstatectl printed, parsed."""
    result = ctl("apply", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    printed = yaml.safe_load(result.stdout)
    assert isinstance(printed, dict), result.stdout
    return printed


def test_every_input_form_prints_the_interfaces_it_names(nmstatectl: Ctl) -> None:
    flow = applied(nmstatectl, "interfaces: [{name: eth2, type: ethernet, state: up, mtu: 1400}]")
    assert [(i["name"], i["mtu"]) for i in flow["interfaces"]] == [("eth2", 1400)]

    as_json = {"interfaces": [{"name": "eth3", "type": "ethernet", "state": "up", "mtu": 1300}]}
    printed = applied(nmstatectl, json.dumps(as_json))
    assert [(i["name"], i["mtu"]) for i in printed["interfaces"]] == [("eth3", 1300)]

    block = applied(nmstatectl, (EXAMPLES / "eth1-static.yml").read_text())
    (eth1,) = block["interfaces"]
    assert eth1["name"] == "eth1"
    assert {"ip": "192.0.2.10", "prefix-length": 24} in eth1["ipv4"]["address"]
    assert set(block) == {"route-rules", "routes", "interfaces"}


def test_dns_only_and_hostname_only_print_their_section(nmstatectl: Ctl) -> None:
    dns = applied(nmstatectl, "dns-resolver:\n  config:\n    server: [192.0.2.53]\n")
    assert list(dns) == ["dns-resolver"]
    assert dns["dns-resolver"]["config"]["server"] == ["192.0.2.53"]

    hostname = applied(nmstatectl, "hostname:\n  running: box-printed\n")
    assert list(hostname) == ["hostname"]
    assert hostname["hostname"]["running"] == "box-printed"


RULE = """
interfaces:
- name: eth1
  type: ethernet
  ipv4:
    enabled: true
    address:
    - ip: 192.0.2.10
      prefix-length: 24
routes:
  config:
  - destination: 203.0.113.0/24
    next-hop-interface: eth1
    next-hop-address: 192.0.2.1
    table-id: 100
route-rules:
  config:
  - ip-from: 192.0.2.0/24
    priority: 1000
    route-table: 100
"""


def test_a_route_rule_applied_is_printed(nmstatectl: Ctl) -> None:
    printed = applied(nmstatectl, RULE)
    assert list(printed) == ["route-rules", "routes", "interfaces"]
    rules = printed["route-rules"]["config"]
    assert any(r.get("ip-from") == "192.0.2.0/24" and r.get("route-table") == 100 for r in rules), (
        rules
    )
    assert any(r["destination"] == "203.0.113.0/24" for r in printed["routes"]["config"])
    assert [i["name"] for i in printed["interfaces"]] == ["eth1"]


def test_show_names_what_matched_nothing(shared_daemon: Sandbox) -> None:
    ctl = Ctl(shared_daemon)
    missing = ctl("show", "nope0")
    assert missing.returncode == 1
    assert missing.stderr == "nmstatectl: no interface matches nope0\n"
    assert yaml.safe_load(missing.stdout)["interfaces"] == []

    glob = ctl("show", "nope*")
    assert (glob.returncode, glob.stderr) == (0, "nmstatectl: no interface matches nope*\n")

    some = ctl("show", "--json", "eth1", "nope0")
    assert some.returncode == 1
    assert some.stderr == "nmstatectl: no interface matches nope0\n"
    assert [i["name"] for i in json.loads(some.stdout)["interfaces"]] == ["eth1"]

    found = ctl("show", "eth*", "lo")
    assert (found.returncode, found.stderr) == (0, "")


def test_an_error_among_several_files_names_its_file(nmstatectl: Ctl, tmp_path: Any) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text((EXAMPLES / "eth1-static.yml").read_text())
    bad.write_text("interfaces:\n- name: eth2\n  mtu: 0\n")
    result = nmstatectl("apply", str(good), str(bad))
    assert result.returncode == 65, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"nmstatectl: error: {bad}: interfaces[0].mtu"), error
    assert f"# applied {good}" in result.stderr

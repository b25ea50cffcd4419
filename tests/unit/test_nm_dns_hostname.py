"""Global DNS and hostname: translation and what an apply would change, without a bus."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nmstated.backends.networkmanager import dns, hostname
from nmstated.backends.networkmanager.client import unwrap
from nmstated.errors import InvalidArgument
from nmstated.model import DnsConfig, HostnameState

CURRENT = DnsConfig(server=("192.0.2.53",), search=("example.org",), options=("rotate",))


def test_dns_servers_go_to_the_default_domain() -> None:
    config = DnsConfig.from_dict(
        {"server": ["192.0.2.53", "2001:DB8::53"], "search": ["example.org"], "options": ["rotate"]}
    )
    assert unwrap(dns.to_nm(config)) == {
        "searches": ["example.org"],
        "options": ["rotate"],
        "domains": {"*": {"servers": ["192.0.2.53", "2001:db8::53"]}},
    }
    assert dns.from_nm(dns.to_nm(config)) == config


def test_nothing_configured_is_an_empty_value() -> None:
    assert dns.to_nm(DnsConfig(server=(), search=(), options=())) == {}
    assert dns.from_nm({}) == DnsConfig(server=(), search=(), options=())


def test_lists_not_given_keep_their_current_value() -> None:
    only_servers = DnsConfig.from_dict({"server": ["198.51.100.53"]})
    assert dns.wanted(only_servers, CURRENT) == DnsConfig(
        server=("198.51.100.53",), search=("example.org",), options=("rotate",)
    )
    no_search = DnsConfig.from_dict({"search": []})
    assert dns.wanted(no_search, CURRENT) == DnsConfig(
        server=("192.0.2.53",), search=(), options=("rotate",)
    )


def test_empty_config_purges_everything() -> None:
    assert DnsConfig.from_dict({}).purges
    assert dns.wanted(DnsConfig.from_dict({}), CURRENT) == DnsConfig(
        server=(), search=(), options=()
    )
    assert dns.to_nm(DnsConfig.from_dict({}).over(CURRENT)) == {}


def test_dns_already_as_asked_needs_no_write() -> None:
    assert dns.wanted(DnsConfig.from_dict({"server": ["192.0.2.53"]}), CURRENT) is None
    assert dns.wanted(DnsConfig.from_dict({}), DnsConfig(server=(), search=(), options=())) is None


def test_hostname_changes_only_what_differs() -> None:
    desired = HostnameState(running="box-one", config="box-one")
    assert hostname.plan(desired, "old", "old") == hostname.HostnameChange("box-one", "box-one")
    assert hostname.plan(desired, "box-one", "old") == hostname.HostnameChange(None, "box-one")
    assert hostname.plan(desired, "box-one", "box-one").empty
    assert hostname.plan(HostnameState(running="x"), "y", None) == hostname.HostnameChange("x")


class RecordingNetworkManager:
    """Stands in for NetworkManager where the real one cannot act: the sandbox's
    /etc/hostname is a bind mount that SaveHostname's rename cannot replace."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def call(self, *args: Any, doing: str | None = None) -> list[Any]:
        self.calls.append((*args, doing))
        return []


def test_saving_the_hostname_is_networkmanagers_savehostname() -> None:
    change = hostname.plan(HostnameState(config="box-two"), "box-two", "nmstated-sandbox")
    assert change == hostname.HostnameChange(running=None, config="box-two")
    nm = RecordingNetworkManager()
    assert change.config is not None
    asyncio.run(hostname.save(nm, change.config))  # type: ignore[arg-type]
    assert nm.calls == [
        (
            "/org/freedesktop/NetworkManager/Settings",
            "org.freedesktop.NetworkManager.Settings",
            "SaveHostname",
            "s",
            ["box-two"],
            "hostname.config: saving box-two",
        )
    ]


@pytest.mark.parametrize("name", ["", "x" * 65])
def test_hostname_length_is_checked(name: str) -> None:
    with pytest.raises(InvalidArgument, match=r"hostname\.running: must be 1 to 64 bytes long"):
        hostname.plan(HostnameState(running=name), "old", None)

"""Deltas and their coalescing, no root: a real cache and hub fed by hand.

The hub's windows are real asyncio timers; tests wait for the deltas they
expect with a deadline (a window of a few milliseconds), never a sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from nmstated.cache import Change
from nmstated.delta import Delta, changed_paths, entry_changes, interface_views
from nmstated.monitor import KernelMonitor
from nmstated.signals import SignalHub
from tests.unit.test_cache import address, link, route, rule

WINDOW = 0.005


class Harness:
    """A hub over a monitor's cache; ``apply`` changes the cache and tells the hub."""

    def __init__(self, window: float = WINDOW) -> None:
        self.monitor = KernelMonitor()
        self.cache = self.monitor.cache
        self.hub = SignalHub(self.monitor, coalesce_window=window)
        self.deltas: asyncio.Queue[Delta] = asyncio.Queue()
        self.resyncs: list[tuple[int, str]] = []
        self.hub.on_delta.append(self.deltas.put_nowait)
        self.hub.on_resynced.append(lambda why: self.resyncs.append((self.deltas.qsize(), why)))

    def apply(self, changes: tuple[Change, ...] | None, job: int | None = None) -> None:
        assert changes is not None
        self.hub.record(changes, job)

    async def next(self) -> Delta:
        return await asyncio.wait_for(self.deltas.get(), 5)

    def drained(self) -> bool:
        return self.deltas.empty()


def run(test: Callable[[Harness], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        harness = Harness(**options)
        try:
            await test(harness)
        finally:
            harness.hub.close()

    asyncio.run(main())


def test_changes_within_the_window_are_one_delta_per_interface() -> None:
    async def body(h: Harness) -> None:
        h.apply(h.cache.put_link(link(2, "a")).changes)
        h.apply(h.cache.put_link(link(2, "a", mtu=9000)).changes)
        h.apply(h.cache.put_address(address(2, "192.0.2.1")))
        h.apply(h.cache.put_link(link(3, "b")).changes)
        first, second = await h.next(), await h.next()
        assert [c.name for c in first.interfaces] == ["a"]
        (change,) = first.interfaces
        assert change.old is None and change.new is not None
        assert change.new["mtu"] == 9000
        assert change.new["ipv4"]["address"] == [{"ip": "192.0.2.1", "prefix-length": 24}]
        assert [c.name for c in second.interfaces] == ["b"]
        assert (first.sequence, second.sequence) == (1, 2)

    run(body)


def test_old_is_what_was_published_and_an_undone_change_emits_nothing() -> None:
    async def body(h: Harness) -> None:
        h.cache.put_link(link(2, "a"))
        h.hub.start()  # subscribers know "a" as it is now
        h.apply(h.cache.put_link(link(2, "a", mtu=9000)).changes)
        h.apply(h.cache.put_link(link(2, "a")).changes)  # back, within the window
        h.apply(h.cache.put_link(link(2, "a", mtu=1400)).changes)
        delta = await h.next()
        (change,) = delta.interfaces
        assert change.to_dict()["changed"] == ["mtu"]
        assert (change.old and change.old["mtu"], change.new and change.new["mtu"]) == (1500, 1400)
        h.apply(h.cache.put_link(link(2, "a", mtu=1000)).changes)
        h.apply(h.cache.put_link(link(2, "a", mtu=1400)).changes)
        h.hub.flush()
        assert h.drained()

    run(body)


def test_a_change_made_while_our_job_ran_carries_its_id() -> None:
    async def body(h: Harness) -> None:
        h.apply(h.cache.put_link(link(2, "a")).changes, job=None)
        h.apply(h.cache.put_address(address(2, "192.0.2.1")), job=7)
        assert (await h.next()).job == 7
        h.apply(h.cache.put_link(link(2, "a", mtu=1400)).changes, job=None)
        assert (await h.next()).job is None

    run(body)


def test_routes_ride_with_their_next_hop_interface_and_rules_on_their_own() -> None:
    async def body(h: Harness) -> None:
        h.cache.put_link(link(2, "a"))
        h.hub.start()
        h.apply(h.cache.put_route(route("10.1.0.0/24", oif=2, gateway="192.0.2.1"), replace=False))
        h.apply(h.cache.put_rule(rule(1000)))
        h.apply(h.cache.put_route(route("10.9.0.0/24", oif=None, type_=6), replace=False))
        first, second = await h.next(), await h.next()
        assert first.interfaces == ()
        assert first.to_dict()["routes"] == [
            {
                "old": None,
                "new": {
                    "destination": "10.1.0.0/24",
                    "next-hop-interface": "a",
                    "next-hop-address": "192.0.2.1",
                    "metric": 0,
                    "table-id": 254,
                },
            }
        ]
        assert [c.new and c.new["priority"] for c in second.rules] == [1000]
        assert [c.new and c.new["route-type"] for c in second.routes] == ["blackhole"]

    run(body)


def test_kernel_internal_routes_are_not_reported() -> None:
    async def body(h: Harness) -> None:
        h.cache.put_link(link(2, "a"))
        h.hub.start()
        h.apply(h.cache.put_route(route("192.0.2.1/32", type_=2, table=255), replace=False))
        h.hub.flush()
        assert h.drained()

    run(body)


def test_a_removed_route_names_the_interface_removed_with_it() -> None:
    async def body(h: Harness) -> None:
        h.cache.put_link(link(2, "a"))
        h.cache.put_route(route("10.1.0.0/24", oif=2), replace=False)
        h.hub.start()
        h.apply(h.cache.remove_link(2).changes)
        delta = await h.next()
        assert [(c.name, c.new) for c in delta.interfaces] == [("a", None)]
        ((old, new),) = [(c.old, c.new) for c in delta.routes]
        assert old is not None and old["next-hop-interface"] == "a" and new is None

    run(body)


def test_a_port_joining_a_bridge_changes_the_bridge_too() -> None:
    async def body(h: Harness) -> None:
        bridge = link(2, "br0", kind="bridge")
        h.cache.put_link(bridge)
        h.cache.put_link(link(3, "p0"))
        h.hub.start()
        h.apply(h.cache.put_link(link(3, "p0", controller_index=2, port_kind="bridge")).changes)
        deltas = {c.name: c for d in (await h.next(), await h.next()) for c in d.interfaces}
        assert deltas["p0"].new and deltas["p0"].new["controller"] == "br0"
        br = deltas["br0"].new
        assert br is not None and [p["name"] for p in br["bridge"]["port"]] == ["p0"]

    run(body)


def test_a_resync_publishes_everything_then_says_so() -> None:
    async def body(h: Harness) -> None:
        h.cache.put_link(link(2, "a"))
        h.hub.start()
        h.apply(h.cache.put_link(link(2, "a", mtu=9000)).changes)
        # The cache was wrong about "b" without anyone being told.
        h.cache.put_link(link(3, "b"))
        h.hub.resynced("lost events")
        assert h.resyncs == [(2, "lost events")]  # after both deltas were out
        names = [c.name for d in (await h.next(), await h.next()) for c in d.interfaces]
        assert names == ["a", "b"]

    run(body, window=60.0)  # no window closes by itself in this test


@pytest.mark.parametrize(
    ("old", "new", "paths"),
    [
        ({"mtu": 1500}, {"mtu": 9000}, ["mtu"]),
        (
            {"ipv4": {"enabled": False}},
            {"ipv4": {"enabled": True, "address": []}},
            ["ipv4.enabled", "ipv4.address"],
        ),
        ({"a": 1, "b": 2}, {"a": 1}, ["b"]),
        ({"a": [1, 2]}, {"a": [2, 1]}, ["a"]),
        ({"a": 1}, {"a": 1}, []),
    ],
)
def test_changed_paths(old: dict[str, Any], new: dict[str, Any], paths: list[str]) -> None:
    assert changed_paths(old, new) == paths


def test_entry_changes_pair_old_and_new_and_drop_the_unchanged() -> None:
    a, b = {"destination": "10.0.0.0/8"}, {"destination": "10.0.0.0/8", "metric": 5}
    assert entry_changes((a,), (a,)) == []
    assert [(c.old, c.new) for c in entry_changes((a,), (b,))] == [(a, b)]
    assert [(c.old, c.new) for c in entry_changes((), (a, b))] == [(None, a), (None, b)]


def test_views_list_dynamic_addresses_without_lifetimes() -> None:
    lease = dataclasses.replace(address(2, "192.0.2.50"), dynamic=True, valid_lft=300)
    views = interface_views({2: link(2, "a")}, [lease])
    assert views["a"]["ipv4"]["address"] == [{"ip": "192.0.2.50", "prefix-length": 24}]


def test_delta_json_is_nmstate_shaped() -> None:
    delta = Delta(3, None, (), entry_changes((), ({"destination": "10.0.0.0/8"},)))
    assert json.loads(delta.to_json()) == {
        "sequence": 3,
        "job": None,
        "interfaces": [],
        "routes": [{"old": None, "new": {"destination": "10.0.0.0/8"}}],
        "route-rules": [],
    }
    assert not Delta(4, None)

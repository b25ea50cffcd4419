"""KernelCache bookkeeping, no root: models built by hand."""

from __future__ import annotations

import dataclasses
import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from nmstated.backends.kernel import Address, Link, Route, Rule, Snapshot
from nmstated.backends.kernel.netlink import NextHop
from nmstated.cache import IFF_LOWER_UP, IFF_RUNNING, IFF_UP, KernelCache, route_slot

AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP


def link(index: int, name: str, flags: int = UP, **extra: object) -> Link:
    fields: dict[str, object] = {
        "index": index,
        "name": name,
        "kind": "veth",
        "mtu": 1500,
        "mac": "02:00:00:00:00:01",
        "operstate": "UP",
        "up": bool(flags & IFF_UP),
        "controller_index": None,
        "link_index": None,
        "link_netnsid": None,
        "flags": flags,
    }
    fields.update(extra)
    return Link(**fields)  # type: ignore[arg-type]


def address(index: int, ip: str, prefix: int = 24, family: int = AF_INET) -> Address:
    return Address(index, family, ip, prefix, scope=0, dynamic=False, flags=0x80)


def route(
    destination: str,
    oif: int | None = 2,
    gateway: str | None = None,
    *,
    family: int = AF_INET,
    metric: int = 0,
    source: str | None = None,
    type_: int = 1,
    table: int = 254,
    multipath: tuple[NextHop, ...] = (),
) -> Route:
    return Route(
        family=family,
        table=table,
        destination=destination,
        gateway=gateway,
        oif=oif,
        metric=metric,
        protocol=4,
        scope=0,
        type=type_,
        source=source,
        multipath=multipath,
    )


def rule(priority: int, table: int = 100) -> Rule:
    return Rule(AF_INET, priority, table, "10.0.0.0", 8, None, 0, None, None, None, 1, None)


def cache_with(*links: Link) -> KernelCache:
    cache = KernelCache()
    for item in links:
        cache.put_link(item)
    return cache


def test_a_new_link_is_a_change_and_the_same_link_again_is_none() -> None:
    cache = KernelCache()
    first = cache.put_link(link(2, "a"))
    assert [(c.kind, c.old, c.new) for c in first.changes] == [("link", None, link(2, "a"))]
    assert cache.put_link(link(2, "a")).changes == ()
    assert cache.link_named("a") == link(2, "a")


def test_a_rename_moves_the_name() -> None:
    cache = cache_with(link(2, "a"))
    cache.put_link(link(2, "b"))
    assert cache.link_named("a") is None
    assert cache.link_named("b") == link(2, "b")


def test_routes_are_stale_when_a_link_goes_down_or_its_carrier_changes() -> None:
    cache = cache_with(link(2, "a"))
    assert not cache.put_link(link(2, "a", mtu=9000)).routes_stale
    carrier = cache.put_link(link(2, "a", flags=IFF_UP | IFF_RUNNING)).routes_stale
    assert carrier.links == {2} and not carrier.everything  # that link's routes only
    assert cache.put_link(link(2, "a", flags=IFF_UP)).routes_stale  # link watcher acted
    assert cache.put_link(link(2, "a", flags=0)).routes_stale  # down
    assert not cache.put_link(link(2, "a", flags=0, mtu=1400)).routes_stale  # still down


def test_removing_a_link_takes_its_addresses_and_single_path_routes() -> None:
    cache = cache_with(link(2, "a"), link(3, "b"))
    cache.put_address(address(2, "192.0.2.1"))
    cache.put_address(address(3, "198.51.100.1"))
    assert cache.put_route(route("10.1.0.0/24", oif=2), replace=False)
    assert cache.put_route(route("10.2.0.0/24", oif=3), replace=False)
    update = cache.remove_link(2)
    kinds = [(c.kind, c.new) for c in update.changes]
    assert kinds == [("address", None), ("route", None), ("link", None)]
    assert not update.routes_stale
    snap = cache.snapshot()
    assert list(snap.links) == [3]
    assert [a.address for a in snap.addresses] == ["198.51.100.1"]
    assert [r.destination for r in snap.routes] == ["10.2.0.0/24"]


def test_removing_a_link_under_a_multipath_route_asks_for_a_re_read() -> None:
    cache = cache_with(link(2, "a"), link(3, "b"))
    hops = (NextHop("192.0.2.2", 2), NextHop("198.51.100.2", 3))
    cache.replace_routes([route("10.9.0.0/24", oif=None, multipath=hops)])
    assert cache.remove_link(2).routes_stale.links == {3}  # re-read through its other hop


def test_routes_that_differ_only_in_next_hop_live_side_by_side() -> None:
    cache = KernelCache()
    for oif in (2, 3, 4):
        fe80 = route("fe80::/64", oif=oif, family=AF_INET6, metric=256)
        assert cache.put_route(fe80, replace=False) is not None
    assert len(cache.snapshot().routes) == 3
    assert cache.remove_route(route("fe80::/64", oif=3, family=AF_INET6, metric=256))
    assert sorted(r.oif for r in cache.snapshot().routes) == [2, 4]


def test_local_and_broadcast_routes_for_one_address_are_two_routes() -> None:
    cache = KernelCache()
    cache.put_route(route("10.0.0.255/32", type_=2, table=255), replace=False)
    cache.put_route(route("10.0.0.255/32", type_=3, table=255), replace=False)
    assert len(cache.snapshot().routes) == 2


def test_replace_swaps_the_one_route_in_its_slot() -> None:
    cache = KernelCache()
    cache.put_route(route("10.1.0.0/24", gateway="192.0.2.1"), replace=False)
    changes = cache.put_route(route("10.1.0.0/24", gateway="192.0.2.9"), replace=True)
    assert changes is not None
    ((old, new),) = [(c.old, c.new) for c in changes]
    assert isinstance(old, Route) and isinstance(new, Route)
    assert (old.gateway, new.gateway) == ("192.0.2.1", "192.0.2.9")
    assert [r.gateway for r in cache.snapshot().routes] == ["192.0.2.9"]


def test_an_event_that_cannot_be_placed_exactly_returns_none() -> None:
    cache = KernelCache()
    cache.put_route(route("10.1.0.0/24", oif=2), replace=False)
    cache.put_route(route("10.1.0.0/24", oif=3), replace=False)
    # Which of the two did the kernel replace?  Only a re-read can tell.
    assert cache.put_route(route("10.1.0.0/24", oif=4), replace=True) is None
    hops = (NextHop("192.0.2.2", 2), NextHop("192.0.2.3", 3))
    assert cache.put_route(route("10.2.0.0/24", oif=None, multipath=hops), replace=False) is None
    # A delete of something unknown in an occupied slot is just as unclear...
    assert cache.remove_route(route("10.1.0.0/24", oif=9)) is None
    # ...but in an empty slot it changes nothing.
    assert cache.remove_route(route("10.7.0.0/24")) == ()


def test_a_removed_ipv4_address_may_take_routes_silently() -> None:
    cache = cache_with(link(2, "a"))
    first, second = address(2, "192.0.2.1"), address(2, "192.0.2.2")
    cache.put_address(first)
    cache.put_address(second)
    cache.put_route(route("10.1.0.0/24", oif=2, source="192.0.2.1"), replace=False)
    cache.remove_address(first)
    assert cache.routes_lost_with(first).links == {2}  # preferred source gone
    cache.replace_routes([route("10.2.0.0/24", oif=2)])
    assert not cache.routes_lost_with(first)
    cache.remove_address(second)
    assert cache.routes_lost_with(second).links == {2}  # the link's last IPv4 address
    assert not cache.routes_lost_with(address(2, "2001:db8::1", 64, AF_INET6))


def test_address_lifetimes_alone_are_no_change() -> None:
    cache = cache_with(link(2, "a"))
    lease = dataclasses.replace(address(2, "192.0.2.1"), dynamic=True, valid_lft=300)
    assert cache.put_address(lease)
    assert cache.put_address(dataclasses.replace(lease, valid_lft=250)) == ()
    assert cache.addresses_of(2)[0].valid_lft == 250  # but the newest is kept


def test_replace_reports_exactly_what_the_cache_had_wrong() -> None:
    cache = cache_with(link(2, "a"), link(3, "b"))
    cache.put_address(address(2, "192.0.2.1"))
    cache.put_route(route("10.1.0.0/24"), replace=False)
    cache.put_rule(rule(1000))
    truth = Snapshot(
        links={2: link(2, "a", mtu=9000), 4: link(4, "c")},
        addresses=(address(4, "198.51.100.1"),),
        routes=(route("10.1.0.0/24"), route("10.3.0.0/24", oif=4)),
        rules=(rule(2000),),
    )
    changes = cache.replace(truth)
    summary = sorted(
        (c.kind, "added" if c.old is None else "removed" if c.new is None else "changed")
        for c in changes
    )
    assert summary == [
        ("address", "added"),
        ("address", "removed"),
        ("link", "added"),
        ("link", "changed"),
        ("link", "removed"),
        ("route", "added"),
        ("rule", "added"),
        ("rule", "removed"),
    ]
    snap = cache.snapshot()
    assert dict(snap.links) == dict(truth.links)
    assert set(snap.addresses) == set(truth.addresses)
    assert set(snap.routes) == set(truth.routes)
    assert set(snap.rules) == set(truth.rules)
    assert cache.link_named("b") is None and cache.link_named("c") == link(4, "c")
    assert cache.replace(truth) == ()


def test_a_snapshot_does_not_change_with_the_cache() -> None:
    cache = cache_with(link(2, "a"))
    snap = cache.snapshot()
    cache.put_link(link(3, "b"))
    cache.put_route(route("10.1.0.0/24"), replace=False)
    assert list(snap.links) == [2] and snap.routes == ()


def test_deleting_a_route_that_went_with_its_link_needs_no_re_read() -> None:
    """After a link goes, the kernel still announces some of its routes' deletion.

    They share a slot with the same routes of other links (fe80::/64 on every
    link); asking for a full re-read each time made removing N links cost N dumps.
    """
    cache = cache_with(link(2, "a"), link(3, "b"))
    for oif in (2, 3):
        cache.put_route(route("fe80::/64", oif=oif, family=AF_INET6, metric=256), replace=False)
    cache.remove_link(2)
    late = route("fe80::/64", oif=2, family=AF_INET6, metric=256)
    assert cache.remove_route(late) == ()
    assert [r.oif for r in cache.snapshot().routes] == [3]


def test_removing_the_only_link_of_a_multipath_route_takes_it() -> None:
    cache = cache_with(link(2, "a"))
    hops = (NextHop("192.0.2.2", 2), NextHop("192.0.2.3", 2))
    cache.replace_routes([route("10.9.0.0/24", oif=None, multipath=hops)])
    update = cache.remove_link(2)
    assert not update.routes_stale
    assert cache.snapshot().routes == ()


def test_a_removed_source_address_names_the_links_of_the_routes_preferring_it() -> None:
    cache = cache_with(link(2, "a"), link(3, "b"))
    cache.put_address(address(2, "192.0.2.1"))
    cache.put_address(address(2, "192.0.2.2"))
    cache.put_route(route("10.3.0.0/24", oif=3, source="192.0.2.1"), replace=False)
    gone = address(2, "192.0.2.1")
    cache.remove_address(gone)
    assert cache.routes_lost_with(gone).links == {3}  # not link 2: it keeps an address
    cache.put_route(route("10.4.0.0/24", oif=None, type_=6, source="192.0.2.1"), replace=False)
    assert cache.routes_lost_with(gone).everything  # a blackhole: no link to re-read


def test_an_unplaceable_event_names_the_links_of_its_slot() -> None:
    cache = KernelCache()
    cache.put_route(route("10.1.0.0/24", oif=2), replace=False)
    cache.put_route(route("10.1.0.0/24", oif=3), replace=False)
    stale = cache.stale_around(route("10.1.0.0/24", oif=4))
    assert stale.links == {2, 3, 4} and not stale.everything
    cache.put_route(route("10.5.0.0/24", oif=None, type_=6), replace=False)
    assert cache.stale_around(route("10.5.0.0/24", oif=2)).everything


def test_replacing_the_routes_through_one_link_leaves_the_others() -> None:
    cache = KernelCache()
    hops = (NextHop("192.0.2.2", 2), NextHop("198.51.100.2", 3))
    cache.replace_routes(
        [
            route("10.1.0.0/24", oif=2),
            route("10.2.0.0/24", oif=3),
            route("10.9.0.0/24", oif=None, multipath=hops),
            route("10.8.0.0/24", oif=None, type_=6),
        ]
    )
    dead = (NextHop("192.0.2.2", 2, flags=1), NextHop("198.51.100.2", 3))
    changes = cache.replace_routes_via(2, [route("10.9.0.0/24", oif=None, multipath=dead)])
    assert sorted((c.old is not None, c.new is not None) for c in changes) == [
        (False, True),
        (True, False),
        (True, False),
    ]
    left = {(r.destination, r.multipath) for r in cache.snapshot().routes}
    assert left == {("10.2.0.0/24", ()), ("10.9.0.0/24", dead), ("10.8.0.0/24", ())}
    assert {r.destination for r in cache.routes_via(3)} == {"10.2.0.0/24", "10.9.0.0/24"}


_routes = st.builds(
    route,
    st.sampled_from(["10.1.0.0/24", "10.2.0.0/24", "fe80::/64"]),
    oif=st.sampled_from([None, 2, 3, 4]),
    gateway=st.sampled_from([None, "192.0.2.9"]),
    source=st.sampled_from([None, "192.0.2.1", "192.0.2.2"]),
    multipath=st.sampled_from(
        [(), (NextHop("192.0.2.2", 2), NextHop("192.0.2.3", 3)), (NextHop(None, 4, flags=1),)]
    ),
)
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _routes, st.booleans()),
        st.tuples(st.just("remove"), _routes, st.just(False)),
        st.tuples(st.just("via"), st.sampled_from([2, 3, 4]), st.lists(_routes, max_size=3)),
        st.tuples(st.just("link"), st.sampled_from([2, 3, 4]), st.just(False)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(_operations)
def test_the_route_indexes_agree_with_the_routes(operations: list[tuple[object, ...]]) -> None:
    """Whatever happens, routes_via() and routes_lost_with() see what a full
    scan of the routes would."""
    cache = cache_with(link(2, "a"), link(3, "b"), link(4, "c"))
    for op, arg, extra in operations:
        if op == "put":
            assert isinstance(arg, Route) and isinstance(extra, bool)
            cache.put_route(arg, replace=extra)
        elif op == "remove":
            assert isinstance(arg, Route)
            cache.remove_route(arg)
        elif op == "via":
            assert isinstance(arg, int) and isinstance(extra, list)
            through = [r for r in extra if arg == r.oif or any(h.oif == arg for h in r.multipath)]
            cache.replace_routes_via(arg, through)
        else:
            assert isinstance(arg, int)
            cache.remove_link(arg)
            cache.put_link(link(arg, f"l{arg}"))
        routes = cache.snapshot().routes
        with_multipath = {route_slot(r) for r in routes if r.multipath}
        assert set(cache._multipath_slots) == with_multipath  # the bookkeeping itself
        for index in (2, 3, 4):
            expected = {
                r for r in routes if r.oif == index or any(h.oif == index for h in r.multipath)
            }
            assert set(cache.routes_via(index)) == expected
        for source in ("192.0.2.1", "192.0.2.2"):
            preferring = [r for r in routes if r.source == source]
            lost = cache.routes_lost_with(address(9, source))
            if any(r.oif is None and not r.multipath for r in preferring):
                assert lost.everything
            else:
                oifs = {r.oif for r in preferring} | {
                    h.oif for r in preferring for h in r.multipath
                }
                assert lost.links == oifs - {None}

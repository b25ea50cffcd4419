"""When an activation counts as up: NetworkManager's state and flags against nmstate's rule."""

from __future__ import annotations

import pytest

from nmstated.backends.networkmanager.client import (
    ActivationFlag,
    ActiveState,
    only_waiting_for_dynamic,
)

L2 = ActivationFlag.LAYER2_READY
IP4 = ActivationFlag.IP4_READY
IP6 = ActivationFlag.IP6_READY
V4, V6, BOTH, NONE = frozenset({4}), frozenset({6}), frozenset({4, 6}), frozenset[int]()


@pytest.mark.parametrize(
    ("flags", "dynamic", "up"),
    [
        # DHCPv4, IPv6 disabled (NetworkManager marks a disabled family ready at once).
        (L2 | IP6, V4, True),
        # Still before the IP configuration stage.
        (IP6, V4, False),
        (0, V4, False),
        # DHCPv4 with static IPv6 whose DAD is not done: the static family is waited for.
        (L2, V4, False),
        # DHCPv6/autoconf with IPv4 configured, and both dynamic.
        (L2 | IP4, V6, True),
        (L2, BOTH, True),
        (L2 | IP4, BOTH, True),
        # Nothing dynamic: only NetworkManager's ACTIVATED ends the wait.
        (L2, NONE, False),
        (L2 | IP4 | IP6, NONE, False),
        # Everything ready: NetworkManager reports ACTIVATED next; wait for it.
        (L2 | IP4 | IP6, V4, False),
        # The static IPv4 not ready: an IPv6 lease is not all that is left.
        (L2, V6, False),
    ],
)
def test_activating_is_up_when_only_dynamic_families_are_pending(
    flags: int, dynamic: frozenset[int], up: bool
) -> None:
    assert only_waiting_for_dynamic(ActiveState.ACTIVATING, flags, dynamic) is up


@pytest.mark.parametrize(
    "state", [ActiveState.ACTIVATED, ActiveState.DEACTIVATING, ActiveState.DEACTIVATED]
)
def test_only_an_activation_in_progress_can_be_up_early(state: int) -> None:
    # ACTIVATED is handled as such by the caller; a deactivation is a failure.
    assert not only_waiting_for_dynamic(state, L2 | IP6, V4)

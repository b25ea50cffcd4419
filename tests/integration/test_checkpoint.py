"""nmstated's checkpoints against the real NetworkManager: creating, extending,
noticing how one went away, refusing a foreign one, recovering a leftover."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest
from dbus_fast.aio import MessageBus

from nmstated.backends.networkmanager.checkpoint import (
    CHECKPOINT,
    Checkpoint,
    CheckpointRecord,
    Loss,
    recover,
)
from nmstated.backends.networkmanager.client import NM, NM_PATH, NetworkManagerClient
from nmstated.errors import Conflict
from sandbox import Sandbox


def with_nm(box: Sandbox, scenario: Callable[[NetworkManagerClient], Awaitable[None]]) -> None:
    async def run() -> None:
        bus = await MessageBus(bus_address=box.bus_address).connect()
        try:
            await scenario(NetworkManagerClient(bus))
        finally:
            bus.disconnect()

    asyncio.run(run())


def test_extend_moves_networkmanagers_deadline_and_commit_is_not_a_loss(
    sandbox: Sandbox,
) -> None:
    async def scenario(nm: NetworkManagerClient) -> None:
        checkpoint = await Checkpoint.create(nm, 5)
        assert await nm.get_property(checkpoint.path, CHECKPOINT, "RollbackTimeout") == 5
        before = checkpoint.deadline_epoch
        await checkpoint.extend(120)
        assert await nm.get_property(checkpoint.path, CHECKPOINT, "RollbackTimeout") >= 120
        assert checkpoint.deadline_epoch >= before + 115
        await checkpoint.commit()
        assert await nm.checkpoints() == []
        assert checkpoint.loss is None
        checkpoint.close()

    with_nm(sandbox, scenario)


def test_networkmanager_rolling_back_at_the_deadline_is_seen_as_expiry(sandbox: Sandbox) -> None:
    async def scenario(nm: NetworkManagerClient) -> None:
        checkpoint = await Checkpoint.create(nm, 2)
        async with asyncio.timeout(30):
            assert await checkpoint.lost is Loss.EXPIRED
        assert await nm.checkpoints() == []
        checkpoint.close()

    with_nm(sandbox, scenario)


def test_a_checkpoint_removed_by_someone_else_is_not_taken_for_an_expiry(
    sandbox: Sandbox,
) -> None:
    async def scenario(nm: NetworkManagerClient) -> None:
        checkpoint = await Checkpoint.create(nm, 300)
        await nm.call(NM_PATH, NM, "CheckpointDestroy", "o", [checkpoint.path])
        async with asyncio.timeout(30):
            assert await checkpoint.lost is Loss.REMOVED
        checkpoint.close()

    with_nm(sandbox, scenario)


def test_a_foreign_checkpoint_is_a_conflict_and_stays(sandbox: Sandbox) -> None:
    async def scenario(nm: NetworkManagerClient) -> None:
        foreign = await nm.checkpoint_create(300, 0)
        with pytest.raises(Conflict, match=foreign):
            await Checkpoint.create(nm, 60)
        assert await nm.checkpoints() == [foreign]
        await nm.checkpoint_destroy(foreign)

    with_nm(sandbox, scenario)


def test_recover_rolls_back_only_our_own_leftover(sandbox: Sandbox) -> None:
    async def scenario(nm: NetworkManagerClient) -> None:
        ours = await Checkpoint.create(nm, 300)
        record = ours.record(job=7)
        ours.close()  # as if the daemon had been killed: nobody watches it now
        said = await recover(nm, record)
        assert "was still pending: rolled it back" in said and f"pid {os.getpid()}" in said
        assert await nm.checkpoints() == []

        assert "already rolled it back" in await recover(nm, record)

        # The same path, now someone else's checkpoint: left alone.
        foreign = await nm.checkpoint_create(300, 0)
        reused = CheckpointRecord(path=foreign, created=record.created - 1, job=7, pid=1)
        assert "left alone" in await recover(nm, reused)
        assert await nm.checkpoints() == [foreign]
        await nm.checkpoint_destroy(foreign)

    with_nm(sandbox, scenario)

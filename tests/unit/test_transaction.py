"""The parts of a transaction that are pure asyncio: running cleanup to its end,
the guard that extends the deadline while work progresses and gives up when
the checkpoint goes, and the checkpoint record.

The guard is driven with a stand-in checkpoint whose remaining time the test
sets: waiting for real deadlines is the integration tests' job
(tests/integration/test_transactions.py, test_checkpoint.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from nmstated.backends.networkmanager.checkpoint import CheckpointRecord, CheckpointStore, Loss
from nmstated.backends.networkmanager.client import Device
from nmstated.jobs import ApplyRequest, Job, JobLog
from nmstated.model import NetworkState
from nmstated.transaction import Transaction, _Lost, restorable, run_to_end


def in_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test in a fresh event loop (no pytest plugin needed)."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


class StandInCheckpoint:
    def __init__(self, timeout: int, remaining: float) -> None:
        self.timeout = timeout
        self.remaining = remaining
        self.lost: asyncio.Future[Loss] = asyncio.get_running_loop().create_future()
        self.extended: list[int] = []
        self.deadline_epoch = 1000.0

    @property
    def loss(self) -> Loss | None:
        return self.lost.result() if self.lost.done() else None

    async def extend(self, seconds: int) -> None:
        self.extended.append(seconds)
        self.remaining = seconds
        self.deadline_epoch += seconds

    async def confirm_expiry(self) -> None:
        self.lost.set_result(Loss.EXPIRED)


def transaction() -> Transaction:
    job = Job(id=1, desired=NetworkState(), request=ApplyRequest(), sender=":1.1")
    jlog = JobLog(logging.getLogger("test"), {"job": 1})
    return Transaction(job, None, None, None, CheckpointStore(None), jlog)  # type: ignore[arg-type]


@in_loop
async def test_run_to_end_finishes_cleanup_then_reraises_the_cancel() -> None:
    steps: list[str] = []
    release = asyncio.Event()

    async def cleanup() -> str:
        steps.append("started")
        await release.wait()
        steps.append("finished")
        return "done"

    task = asyncio.create_task(run_to_end(cleanup()))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    assert not task.done()  # the cancel waits for the cleanup
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["started", "finished"]


@in_loop
async def test_run_to_end_returns_the_result_when_not_cancelled() -> None:
    async def cleanup() -> int:
        return 7

    assert await run_to_end(cleanup()) == 7


@in_loop
async def test_progress_moves_the_deadline_only_once_half_is_used() -> None:
    tx = transaction()
    checkpoint = StandInCheckpoint(timeout=10, remaining=9.0)
    step = asyncio.Event()

    async def work() -> str:
        tx.progress("first step")  # 9 s of 10 left: no need to extend
        await step.wait()
        step.clear()
        checkpoint.remaining = 4.0
        tx.progress("second step")  # under half left: extend to the full 10 s
        await step.wait()
        return "applied"

    guarded = asyncio.create_task(tx._guard(checkpoint, work()))  # type: ignore[arg-type]
    for _ in range(2):
        for _ in range(5):
            await asyncio.sleep(0)
        step.set()
    assert await guarded == "applied"
    assert checkpoint.extended == [10]
    assert tx.job.rollback_deadline == 1010.0
    assert tx.job.progress == "second step"


@in_loop
async def test_a_lost_checkpoint_stops_the_work() -> None:
    tx = transaction()
    checkpoint = StandInCheckpoint(timeout=10, remaining=9.0)
    cancelled = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    guarded = asyncio.create_task(tx._guard(checkpoint, work()))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    checkpoint.lost.set_result(Loss.NM_GONE)
    with pytest.raises(_Lost) as lost:
        await guarded
    assert lost.value.loss is Loss.NM_GONE
    assert cancelled.is_set()


@in_loop
async def test_our_own_timer_confirms_an_expiry_whose_signal_was_missed() -> None:
    tx = transaction()
    checkpoint = StandInCheckpoint(timeout=5, remaining=-10.0)  # long past the deadline

    with pytest.raises(_Lost) as lost:
        await tx._guard(checkpoint, asyncio.Event().wait())  # type: ignore[arg-type]
    assert lost.value.loss is Loss.EXPIRED


def test_checkpoint_record_round_trip(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "run")
    assert store.load() is None
    record = CheckpointRecord(
        path="/org/freedesktop/NetworkManager/Checkpoint/3", created=123, job=4, pid=99
    )
    store.save(record)
    assert store.load() == record
    store.clear()
    assert store.load() is None
    assert CheckpointStore(None).load() is None


def test_unreadable_checkpoint_record_is_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / CheckpointStore.FILE_NAME).write_text("{not json")
    store = CheckpointStore(tmp_path)
    assert store.load() is None
    assert "unreadable checkpoint record" in caplog.text
    assert not (tmp_path / CheckpointStore.FILE_NAME).exists()


def test_a_rollback_expects_back_the_touched_interfaces_without_virtual_macs() -> None:
    current = NetworkState.from_dict(
        {
            "interfaces": [
                {"name": "eth1", "type": "ethernet", "mac-address": "02:00:00:00:00:01"},
                {"name": "v0", "type": "veth", "mac-address": "02:00:00:00:00:02"},
                {"name": "eth2", "type": "ethernet", "mac-address": "02:00:00:00:00:03"},
            ]
        }
    )
    desired = NetworkState.from_dict({"interfaces": [{"name": "eth1"}, {"name": "v0"}]})
    before = restorable(current, desired)
    assert [(i.name, i.mac_address) for i in before.interfaces] == [
        ("eth1", "02:00:00:00:00:01"),
        ("v0", None),
    ]


def test_a_rollback_expects_the_interfaces_the_job_created_gone() -> None:
    current = NetworkState.from_dict({"interfaces": [{"name": "eth1", "type": "ethernet"}]})
    desired = NetworkState.from_dict(
        {
            "interfaces": [
                {"name": "eth1", "controller": "br9"},
                {"name": "br9", "type": "linux-bridge", "state": "up"},
                {"name": "old0", "type": "veth", "state": "absent"},
            ]
        }
    )
    before = restorable(current, desired)
    assert [(i.name, i.state) for i in before.interfaces] == [("eth1", None), ("br9", "absent")]


class StandInNetworkManager:
    """Knows some devices by name; records what it was asked to delete."""

    def __init__(self, devices: dict[str, Device]) -> None:
        self.devices = devices
        self.deleted: list[str] = []

    async def device_named(self, name: str) -> Device | None:
        return self.devices.get(name)

    async def delete_device(self, device: Device) -> None:
        self.deleted.append(device.name)


class StandInMonitor:
    def __init__(self, links: set[str]) -> None:
        self.cache = self
        self.links = links

    def link_named(self, name: str) -> object | None:
        return name if name in self.links else None


@in_loop
async def test_interfaces_the_job_created_and_the_rollback_left_are_deleted() -> None:
    def device(name: str) -> Device:
        return Device(f"/d/{name}", name, 20, True, 13, "/", real=True)

    nm = StandInNetworkManager({"br1": device("br1"), "eth1": device("eth1")})
    job = Job(id=1, desired=NetworkState(), request=ApplyRequest(), sender=":1.1")
    jlog = JobLog(logging.getLogger("test"), {"job": 1})
    monitor = StandInMonitor({"br1", "eth1"})
    t = Transaction(job, nm, None, monitor, CheckpointStore(None), jlog)  # type: ignore[arg-type]
    current = NetworkState.from_dict({"interfaces": [{"name": "eth1", "type": "ethernet"}]})
    desired = NetworkState.from_dict(
        {
            "interfaces": [
                {"name": "eth1", "controller": "br1"},
                {"name": "br1", "type": "linux-bridge"},
                {"name": "br2", "type": "linux-bridge"},  # its creation failed: no link
            ]
        }
    )
    t._before = restorable(current, desired)
    await t._remove_created()
    assert nm.deleted == ["br1"]  # never eth1, which was there before; br2 never came

"""The job queue against the real daemon: one job at a time in arrival order,
a bounded queue, a bounded history."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from sandbox import Sandbox
from tests.bus import call
from tests.events import SignalRecorder, finished_jobs
from tests.helpers import Ctl, ipv4_addresses
from tests.jobs import NEW, eth1_state, job_props

CLIENTS, CALLS_EACH = 5, 4
RUNNING_STATES = {"running", "verifying"}
PROPERTIES = "org.freedesktop.DBus.Properties"


def two_nic_state(n: int) -> str:
    """eth1 and eth2 both change in one job: atomic means both, verified together."""
    return "interfaces:\n" + "".join(
        f"- name: {nic}\n  type: ethernet\n  state: up\n  ipv4:\n    enabled: true\n"
        f"    dhcp: false\n    address:\n    - ip: {net}.{n}\n      prefix-length: 24\n"
        for nic, net in (("eth1", "198.51.100"), ("eth2", "203.0.113"))
    )


async def apply_from_clients(address: str) -> list[list[tuple[int, str]]]:
    """Each client, on its own connection, sends its Apply calls one after the other
    without waiting for the jobs; the clients run at the same time."""

    async def client(index: int) -> list[tuple[int, str]]:
        bus = await MessageBus(bus_address=address).connect()
        sent = []
        try:
            for i in range(CALLS_EACH):
                n = index * CALLS_EACH + i + 1
                reply = await bus.call(
                    Message(
                        destination="org.nmstate",
                        path="/org/nmstate",
                        interface="org.nmstate.Manager",
                        member="Apply",
                        signature="sa{sv}",
                        body=[two_nic_state(n), {}],
                    )
                )
                assert reply is not None and reply.message_type == MessageType.METHOD_RETURN
                sent.append((n, str(reply.body[0])))
        finally:
            bus.disconnect()
        return sent

    return list(await asyncio.gather(*(client(i) for i in range(CLIENTS))))


def job_id(path: str) -> int:
    return int(path.rsplit("/", 1)[-1])


def test_twenty_applies_from_five_clients_run_one_at_a_time_in_arrival_order(
    daemon: Sandbox,
) -> None:
    with SignalRecorder(daemon.bus_address) as recorder:
        per_client = asyncio.run(apply_from_clients(daemon.bus_address))
        records = recorder.wait(lambda r: len(finished_jobs(r)) == CLIENTS * CALLS_EACH)

    jobs = {path: n for sent in per_client for n, path in sent}
    assert len(jobs) == CLIENTS * CALLS_EACH
    # Each client's calls became jobs in the order it sent them.
    for sent in per_client:
        assert [job_id(p) for _, p in sent] == sorted(job_id(p) for _, p in sent)
    # State changes, in the order the daemon announced them.
    changes = [(p, v["State"]) for p, m, v in records if m == "PropertiesChanged" and "State" in v]
    started = [p for p, state in changes if state == "running"]
    assert [job_id(p) for p in started] == sorted(job_id(p) for p in jobs)
    # One at a time: nobody starts while another job is running or verifying.
    active: set[str] = set()
    for path, state in changes:
        if state in RUNNING_STATES:
            assert active <= {path}, f"{path} ran while {active} did"
            active = {path}
        else:
            active.discard(path)
    # Each job is atomic: it verified both NICs before it succeeded, and the
    # last job's state is what remains.
    assert set(finished_jobs(records).values()) == {"succeeded"}
    last = jobs[max(jobs, key=job_id)]
    assert ipv4_addresses(daemon, "eth1") == {f"198.51.100.{last}/24"}
    assert ipv4_addresses(daemon, "eth2") == {f"203.0.113.{last}/24"}


def start_with_config(sandbox: Sandbox, tmp_path: Path, text: str) -> Sandbox:
    config = tmp_path / "nmstated.conf"
    config.write_text(text)
    sandbox.start_nmstated("--config", str(config))
    return sandbox


def test_queue_is_bounded_and_history_forgets_old_jobs(sandbox: Sandbox, tmp_path: Path) -> None:
    box = start_with_config(sandbox, tmp_path, "[jobs]\nqueue-length = 2\nhistory = 3\n")
    address = box.bus_address
    ctl = Ctl(box)
    holding = call(
        address, "ApplyAndWait", "sa{sv}", [eth1_state(NEW), {"commit": Variant("b", False)}]
    )
    assert holding.error is None, holding
    queued = [call(address, "Apply", "sa{sv}", ["interfaces: []\n", {}]) for _ in range(2)]
    assert [job_props(box, q.body[0])["State"] for q in queued] == ["queued", "queued"]

    refused = call(address, "Apply", "sa{sv}", ["interfaces: []\n", {}])
    assert refused.error == "org.nmstate.Error.QueueFull", refused
    assert "2 jobs are already waiting" in refused.message
    from_client = ctl("apply", "-", stdin="interfaces: []\n")
    assert from_client.returncode == 69 and from_client.stderr.count("\n") == 1

    with SignalRecorder(address) as recorder:
        assert ctl("commit").returncode == 0
        recorder.wait(lambda r: set(finished_jobs(r)) >= {q.body[0] for q in queued})
    more = [call(address, "ApplyAndWait", "sa{sv}", ["interfaces: []\n", {}]) for _ in range(2)]
    assert all(m.error is None for m in more)

    listed = call(address, "Get", "ss", ["org.nmstate.Manager", "Jobs"], interface=PROPERTIES).body[
        0
    ]
    assert listed.value == [q.body[0] for q in queued][1:] + [m.body[0] for m in more]
    forgotten = call(
        address,
        "Get",
        "ss",
        ["org.nmstate.Job", "State"],
        path=holding.body[0],
        interface=PROPERTIES,
    )
    assert forgotten.error is not None and "Unknown" in forgotten.error

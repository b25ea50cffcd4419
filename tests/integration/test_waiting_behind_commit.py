"""An apply queued behind a job that awaits commit says what it waits for."""

from __future__ import annotations

import select
import subprocess

from tests.helpers import VENV_BIN, Ctl
from tests.jobs import NEW, applied_old_state, eth1_state, has_only, latest_job


def test_a_queued_apply_names_the_job_awaiting_commit(nmstatectl: Ctl) -> None:
    box = applied_old_state(nmstatectl)
    assert nmstatectl("apply", "-q", "--no-commit", "-", stdin=eth1_state(NEW)).returncode == 0
    pending = latest_job(box).rsplit("/", 1)[-1]

    second = subprocess.Popen(
        [str(VENV_BIN / "nmstatectl"), "apply", "-q", "-"],
        env=box.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert second.stdin is not None and second.stderr is not None
        second.stdin.write(eth1_state(NEW))
        second.stdin.close()
        ready, _, _ = select.select([second.stderr], [], [], 30)
        assert ready, "no notice within 30 s"
        notice = second.stderr.readline()
        assert f"waits for job {pending}, which awaits commit" in notice, notice

        assert nmstatectl("commit").returncode == 0
        assert second.wait(timeout=60) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
        for stream in (second.stdout, second.stderr):
            if stream is not None:
                stream.close()
    assert has_only(box, NEW)

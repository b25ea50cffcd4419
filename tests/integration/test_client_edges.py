"""nmstatectl at the edges a user reaches: junk input, closed pipes, unknown jobs."""

from __future__ import annotations

import os
import subprocess

from sandbox import Sandbox
from tests.helpers import VENV_BIN, Ctl


def run_bytes(box: Sandbox, *args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(VENV_BIN / "nmstatectl"), *args], env=box.env, input=stdin, capture_output=True
    )


def test_binary_junk_and_nul_are_invalid_input_in_one_line(nmstatectl: Ctl) -> None:
    for junk in (os.urandom(2000) + b"\xff", b"interfaces: []\n\x00\n"):
        result = run_bytes(nmstatectl.box, "apply", "-", stdin=junk)
        assert result.returncode == 65
        err = result.stderr.decode()
        assert err.startswith("nmstatectl: error: standard input:") and err.count("\n") == 1, err


def test_a_closed_pipe_ends_quietly(nmstatectl: Ctl) -> None:
    ctl = subprocess.Popen(
        [str(VENV_BIN / "nmstatectl"), "show", "--json"],
        env=nmstatectl.box.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert ctl.stdout is not None and ctl.stderr is not None
    ctl.stdout.close()  # the reader is gone before the client writes (`| true`)
    err = ctl.stderr.read().decode()
    ctl.stderr.close()
    assert ctl.wait(timeout=30) == 0
    assert "Traceback" not in err and "Error" not in err, err


def test_cancel_of_an_unknown_job_says_so(nmstatectl: Ctl) -> None:
    result = nmstatectl("cancel", "9999")
    assert result.returncode == 65
    assert result.stderr.strip() == (
        "nmstatectl: error: no job /org/nmstate/job/9999 "
        "(unknown, or finished long ago and forgotten)"
    )

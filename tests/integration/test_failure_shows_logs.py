"""A failed integration test prints the end of nmstated's log before its sandbox
(logs included) is removed: what CI keeps of a rare failure is what it printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, require_root

FAILING = """
from tests.helpers import Ctl


def test_fails_on_purpose(nmstatectl: Ctl) -> None:
    assert nmstatectl("show", "eth1").returncode == 0
    assert False, "on purpose"
"""


def test_a_failed_test_prints_the_daemons_log(tmp_path: Path) -> None:
    require_root()
    (tmp_path / "test_inner.py").write_text(FAILING)
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert inner.returncode == 1, inner.stdout + inner.stderr
    assert "last 80 lines of nmstated's log" in inner.stdout, inner.stdout
    assert "serving org.nmstate" in inner.stdout

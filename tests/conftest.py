"""Fixtures shared by every test layer.

Integration tests get a fresh sandbox (a real NetworkManager on a private bus
in its own network namespace) and, if they ask for ``daemon``, nmstated
running inside it.  Everything is removed afterwards, even on failure.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator

import pytest

from sandbox import Sandbox
from tests.helpers import Ctl, require_root

# How much of nmstated's log a failed test shows (the sandbox, logs included, is removed).
LOG_LINES_ON_FAILURE = 80


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


def _show_logs_if_failed(request: pytest.FixtureRequest, box: Sandbox) -> None:
    """A failed test's sandbox is about to go: print the end of nmstated's log (and
    every traceback in it) so the report says what the daemon saw."""
    if not request.node.stash.get(_FAILED, False):
        return
    log = box.log_path("nmstated")
    if not log.exists():
        return
    lines = log.read_text(errors="replace").splitlines()
    print(f"--- last {LOG_LINES_ON_FAILURE} lines of nmstated's log ---", file=sys.stderr)
    print("\n".join(lines[-LOG_LINES_ON_FAILURE:]), file=sys.stderr)
    earlier = [i for i, line in enumerate(lines[:-LOG_LINES_ON_FAILURE]) if "Traceback" in line]
    for start in earlier:
        print("--- an earlier traceback in nmstated's log ---", file=sys.stderr)
        print("\n".join(lines[start : start + 30]), file=sys.stderr)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    require_root()
    box = Sandbox().start()
    try:
        yield box
    finally:
        _show_logs_if_failed(request, box)
        box.stop()


@pytest.fixture
def daemon(sandbox: Sandbox) -> Sandbox:
    sandbox.start_nmstated()
    return sandbox


@pytest.fixture
def nmstatectl(daemon: Sandbox) -> Ctl:
    return Ctl(daemon)


@pytest.fixture(scope="module")
def shared_daemon() -> Iterator[Sandbox]:
    """One sandbox with nmstated for a whole module, for tests that change nothing."""
    require_root()
    box = Sandbox().start()
    try:
        box.start_nmstated()
        yield box
    finally:
        box.stop()

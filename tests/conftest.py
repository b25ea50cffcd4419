"""Fixtures shared by every test layer.

Integration tests get a fresh sandbox (a real NetworkManager on a private bus
in its own network namespace) and, if they ask for ``daemon``, nmstated
running inside it.  Everything is removed afterwards, even on failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from tests.helpers import Ctl, require_root


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    require_root()
    box = Sandbox().start()
    try:
        yield box
    finally:
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

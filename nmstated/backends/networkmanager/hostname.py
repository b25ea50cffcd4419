"""``hostname``: ``running`` is the kernel's hostname now, ``config`` the persistent one.

The running hostname is set with sethostname(2) in our UTS namespace (the
one NetworkManager runs in); the persistent one is saved by NetworkManager
(``SaveHostname``, which writes /etc/hostname or asks hostnamed).  Neither
is covered by a NetworkManager checkpoint: the applier keeps the old
values for ``undo``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from nmstated.backends.networkmanager.client import SETTINGS, SETTINGS_PATH, NetworkManagerClient
from nmstated.errors import BackendError, InvalidArgument
from nmstated.model import HostnameState

HOSTNAME_FILE = Path("/etc/hostname")
_MAX_LENGTH = 64  # HOST_NAME_MAX


@dataclass(frozen=True, slots=True)
class HostnameChange:
    """What to change; None means leave it."""

    running: str | None = None
    config: str | None = None

    @property
    def empty(self) -> bool:
        return self.running is None and self.config is None


def plan(desired: HostnameState, running_now: str, config_now: str | None) -> HostnameChange:
    for key, name in (("running", desired.running), ("config", desired.config)):
        if name is not None and not 0 < len(name.encode()) <= _MAX_LENGTH:
            raise InvalidArgument(f"hostname.{key}: must be 1 to {_MAX_LENGTH} bytes long")
    return HostnameChange(
        running=desired.running if desired.running not in (None, running_now) else None,
        config=desired.config if desired.config not in (None, config_now) else None,
    )


def running() -> str:
    return socket.gethostname()


def saved() -> str | None:
    try:
        return HOSTNAME_FILE.read_text().strip() or None
    except OSError:
        return None


def set_running(name: str) -> None:
    try:
        socket.sethostname(name)
    except OSError as err:
        raise BackendError(f"hostname.running: cannot set it to {name}: {err.strerror}") from None


async def save(nm: NetworkManagerClient, name: str) -> None:
    await nm.call(
        SETTINGS_PATH,
        SETTINGS,
        "SaveHostname",
        "s",
        [name],
        doing=f"hostname.config: saving {name}",
    )

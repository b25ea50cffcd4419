"""NetworkManager checkpoints: every apply runs inside one."""

from __future__ import annotations

import logging

from nmstated.backends.networkmanager.client import NetworkManagerClient

log = logging.getLogger(__name__)

# NMCheckpointCreateFlags understood by NetworkManager 1.42.
DELETE_NEW_CONNECTIONS = 0x02
DISCONNECT_NEW_DEVICES = 0x04
FLAGS = DELETE_NEW_CONNECTIONS | DISCONNECT_NEW_DEVICES


class Checkpoint:
    """A checkpoint over all devices that also removes new profiles and devices."""

    def __init__(self, nm: NetworkManagerClient, path: str) -> None:
        self._nm = nm
        self.path = path

    @classmethod
    async def create(cls, nm: NetworkManagerClient, rollback_timeout: int) -> Checkpoint:
        path = await nm.checkpoint_create(rollback_timeout, FLAGS)
        log.debug("checkpoint %s created (timeout %d s)", path, rollback_timeout)
        return cls(nm, path)

    async def commit(self) -> None:
        await self._nm.checkpoint_destroy(self.path)

    async def rollback(self) -> dict[str, int]:
        return await self._nm.checkpoint_rollback(self.path)

"""The one change nmstated makes to the kernel itself: deleting a link it left behind.

Everything else goes through NetworkManager; this is for a software
interface a failed job created that NetworkManager's rollback did not take
back and no longer manages (see ``Transaction._remove_created``).
"""

from __future__ import annotations

import errno
import logging

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.exceptions import NetlinkError

from nmstated.errors import BackendError

log = logging.getLogger(__name__)


async def delete_link(name: str) -> None:
    """Delete the link called *name*; a link already gone is fine."""
    ipr = AsyncIPRoute()
    try:
        found = await ipr.link_lookup(ifname=name)
        if not found:
            return
        await ipr.link("del", index=found[0])
    except NetlinkError as err:
        if err.code != errno.ENODEV:
            raise BackendError(f"could not delete {name}: {err}") from err
    finally:
        ipr.close()

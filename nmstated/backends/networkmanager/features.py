"""What the running NetworkManager understands, probed once per apply.

NetworkManager 1.46 renamed the port keys of the ``connection`` setting
(``master``/``slave-type`` became ``controller``/``port-type``); older
versions reject the new names, newer ones still read the old.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from nmstated.backends.networkmanager.client import NetworkManagerClient

log = logging.getLogger(__name__)

_CONTROLLER_KEYS_SINCE = (1, 46)


@dataclass(frozen=True, slots=True)
class NmFeatures:
    version: tuple[int, ...]

    @classmethod
    def from_version(cls, text: str) -> NmFeatures:
        numbers = tuple(int(n) for n in re.findall(r"\d+", text)[:3])
        return cls(numbers or (0,))

    @property
    def controller_key(self) -> str:
        return "controller" if self.version >= _CONTROLLER_KEYS_SINCE else "master"

    @property
    def port_type_key(self) -> str:
        return "port-type" if self.version >= _CONTROLLER_KEYS_SINCE else "slave-type"


# Both spellings, for reading profiles written by any version.
CONTROLLER_KEYS = ("controller", "master")
PORT_TYPE_KEYS = ("port-type", "slave-type")


async def probe(nm: NetworkManagerClient) -> NmFeatures:
    version = await nm.version()
    features = NmFeatures.from_version(version)
    log.debug("NetworkManager %s: ports use %s/%s", version, *_keys(features))
    return features


def _keys(features: NmFeatures) -> tuple[str, str]:
    return features.controller_key, features.port_type_key

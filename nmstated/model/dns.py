"""``dns-resolver`` and ``hostname``.

In ``dns-resolver.config`` a list that is not given keeps its current
value; ``config: {}`` (nothing given at all) removes the whole
configuration, as nmstate defines it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nmstated.model.values import canonical_ip


def _server(text: str) -> str:
    # A server may carry a scope ("fe80::1%eth1"); only the address part is canonical.
    address, sep, scope = text.partition("%")
    return canonical_ip(address) + sep + scope


@dataclass(frozen=True, slots=True)
class DnsConfig:
    server: tuple[str, ...] | None = None
    search: tuple[str, ...] | None = None
    options: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DnsConfig:
        def strings(key: str) -> tuple[str, ...] | None:
            value = data.get(key)
            return None if value is None else tuple(str(v) for v in value)

        servers = strings("server")
        return cls(
            server=None if servers is None else tuple(_server(s) for s in servers),
            search=strings("search"),
            options=strings("options"),
        )

    @property
    def purges(self) -> bool:
        """``config: {}``: remove every server, search domain and option."""
        return self.server is None and self.search is None and self.options is None

    def over(self, current: DnsConfig | None) -> DnsConfig:
        """This request laid over the *current* configuration."""
        if self.purges:
            return DnsConfig(server=(), search=(), options=())
        current = current or DnsConfig()
        return DnsConfig(
            server=self.server if self.server is not None else current.server or (),
            search=self.search if self.search is not None else current.search or (),
            options=self.options if self.options is not None else current.options or (),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.server is not None:
            out["server"] = list(self.server)
        if self.search is not None:
            out["search"] = list(self.search)
        if self.options is not None:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class DnsState:
    config: DnsConfig | None = None
    running: DnsConfig | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DnsState:
        config, running = data.get("config"), data.get("running")
        return cls(
            config=DnsConfig.from_dict(config) if isinstance(config, Mapping) else None,
            running=DnsConfig.from_dict(running) if isinstance(running, Mapping) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.config is not None:
            out["config"] = self.config.to_dict()
        if self.running is not None:
            out["running"] = self.running.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class HostnameState:
    config: str | None = None  # the persistent hostname
    running: str | None = None  # the kernel's hostname now

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostnameState:
        config, running = data.get("config"), data.get("running")
        return cls(
            config=None if config is None else str(config),
            running=None if running is None else str(running),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.config is not None:
            out["config"] = self.config
        if self.running is not None:
            out["running"] = self.running
        return out

"""A job: one Apply request, its state as it runs, and its outcome.

Its public fields are what ``org.nmstate.Job`` exports; every change goes
through ``update`` so listeners (the bus object's PropertiesChanged, the
systemd status line) see each one.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nmstated.errors import NmstateError
from nmstated.model import NetworkState


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    VERIFYING = "verifying"
    AWAITING_COMMIT = "awaiting-commit"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    CANCELLED = "cancelled"
    FINAL = frozenset({SUCCEEDED, FAILED, ROLLED_BACK, CANCELLED})
    ACTIVE = frozenset({RUNNING, VERIFYING, AWAITING_COMMIT})


class Decision(enum.Enum):
    """What the caller decided for a job run with ``commit=false``."""

    COMMIT = "commit"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    verify: bool = True
    commit: bool = True
    rollback_timeout: int = 60
    memory_only: bool = False
    dry_run: bool = False


JobListener = Callable[["Job", frozenset[str]], None]


@dataclass(eq=False)
class Job:
    id: int
    desired: NetworkState
    request: ApplyRequest
    sender: str
    created: float = field(default_factory=time.time)
    state: str = JobState.QUEUED
    progress: str = ""
    error_kind: str = ""
    error_message: str = ""
    diff: str = ""
    finished: float = 0.0
    rollback_deadline: float = 0.0  # seconds since the epoch; 0 while no checkpoint is held
    listeners: list[JobListener] = field(default_factory=list)
    # Set when the job is awaiting commit or has ended: the caller may act.
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def update(self, **changes: Any) -> None:
        changed = frozenset(k for k, v in changes.items() if getattr(self, k) != v)
        for key, value in changes.items():
            setattr(self, key, value)
        if changed:
            for listener in list(self.listeners):
                listener(self, changed)
        if self.state == JobState.AWAITING_COMMIT:
            self.settled.set()

    def finish(self, state: str, error: NmstateError | None = None) -> None:
        self.update(
            state=state,
            progress="",
            error_kind=error.kind if error else "",
            error_message=error.message if error else "",
            rollback_deadline=0.0,
            finished=time.time(),
        )
        self.settled.set()
        self.done.set()

    @property
    def ended(self) -> bool:
        return self.state in JobState.FINAL


class JobLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Every line of a job's work carries its id."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        return f"job {self.extra['job']}: {msg}", kwargs  # type: ignore[index]

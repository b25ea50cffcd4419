"""The daemon's settings: ``/etc/nmstate/nmstated.conf``, read once at start.

An ini file; every key is optional::

    [jobs]
    # seconds an uncommitted apply lives before NetworkManager rolls it back,
    # when the Apply call does not say (option rollback-timeout)
    rollback-timeout = 60
    # jobs that may wait; one more Apply gets QueueFull
    queue-length = 32
    # finished jobs kept readable on the bus
    history = 64

    [signals]
    # kernel events closer together than this become one signal
    coalesce-ms = 30

    [logging]
    # debug, info, warning or error (--log-level overrides it)
    level = info

Comments stand on their own lines, starting with ``#`` or ``;``.  A file
that is wrong anywhere is not used at all: ``load_config`` raises one
``InvalidArgument`` naming the file, the line, the key and the value, and the
daemon logs it and runs on the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nmstated.errors import InvalidArgument

DEFAULT_CONFIG_PATH = Path("/etc/nmstate/nmstated.conf")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    rollback_timeout: int = 60  # seconds
    queue_length: int = 32
    job_history: int = 64
    coalesce_window: float = 0.03  # seconds
    log_level: str = "info"


Parser = Callable[[str], Any]


def _whole_number(low: int, high: int) -> Parser:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return int(text)

    return parse


def _milliseconds(low: int, high: int) -> Parser:
    whole = _whole_number(low, high)
    return lambda text: whole(text) / 1000


def _one_of(choices: tuple[str, ...]) -> Parser:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return parse


# (section, key) → (DaemonConfig field, parser of the text value)
SETTINGS: dict[tuple[str, str], tuple[str, Parser]] = {
    # NetworkManager treats a checkpoint timeout of 0 as "never roll back".
    ("jobs", "rollback-timeout"): ("rollback_timeout", _whole_number(1, 86400)),
    ("jobs", "queue-length"): ("queue_length", _whole_number(1, 10000)),
    ("jobs", "history"): ("job_history", _whole_number(0, 100000)),
    ("signals", "coalesce-ms"): ("coalesce_window", _milliseconds(0, 60000)),
    ("logging", "level"): ("log_level", _one_of(LOG_LEVELS)),
}
SECTIONS = tuple(sorted({section for section, _ in SETTINGS}))

_SECTION_LINE = re.compile(r"\[\s*([A-Za-z0-9_-]+)\s*\]")
_KEY_LINE = re.compile(r"([A-Za-z0-9_-]+)\s*=\s*(.*)")


def load_config(path: Path | None = None) -> DaemonConfig:
    """Read *path* (default: ``DEFAULT_CONFIG_PATH``, which may be missing)."""
    source = path or DEFAULT_CONFIG_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path is None:
            return DaemonConfig()
        raise InvalidArgument(f"config {source}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise InvalidArgument(f"config {source}: cannot read it: {reason}") from None
    return parse_config(text, str(source))


def parse_config(text: str, source: str) -> DaemonConfig:
    values: dict[str, Any] = {}
    first_seen: dict[tuple[str, str], int] = {}
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"config {source} line {number}"
        if not line or line[0] in "#;":
            continue
        if match := _SECTION_LINE.fullmatch(line):
            section = match.group(1)
            if section not in SECTIONS:
                raise InvalidArgument(
                    f"{where}: unknown section [{section}] (known: {', '.join(SECTIONS)})"
                )
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            raise InvalidArgument(f"{where}: expected '[section]' or 'key = value', got {line!r}")
        key, value = match.group(1), match.group(2).strip()
        if section is None:
            raise InvalidArgument(f"{where}: key '{key}' comes before any [section]")
        if (section, key) not in SETTINGS:
            known = ", ".join(k for s, k in SETTINGS if s == section)
            raise InvalidArgument(f"{where}: unknown key '{key}' in [{section}] (known: {known})")
        if (section, key) in first_seen:
            raise InvalidArgument(
                f"{where}: [{section}] {key} is set again (first on line "
                f"{first_seen[section, key]})"
            )
        first_seen[section, key] = number
        name, parse = SETTINGS[section, key]
        try:
            values[name] = parse(value)
        except ValueError as err:
            raise InvalidArgument(f"{where}: [{section}] {key} = {value!r}: {err}") from None
    return replace(DaemonConfig(), **values)

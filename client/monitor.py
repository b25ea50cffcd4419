"""``nmstatectl monitor``: print network changes as nmstated reports them.

Subscribes to org.nmstate.Manager's ``StateChanged`` and ``Resynced``
signals and prints each as it arrives: one readable line per change, or,
with ``--json``, each delta as one JSON object per line (a resync as
``{"resynced": REASON}``).  NAME arguments (shell globs) keep only the
interfaces so named and the routes and rules through them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import sys
from datetime import datetime
from typing import Any, TextIO

from dbus_fast import Message, MessageType

from client.bus import BUS_NAME, MANAGER, MANAGER_PATH, Connection
from client.exits import OK, UNAVAILABLE, ClientError

_ADDRESS_PATHS = {"ipv4.address": "ipv4", "ipv6.address": "ipv6"}


# -- filtering -------------------------------------------------------------------------
def _entry_names(change: dict[str, Any], *keys: str) -> set[str]:
    names: set[str] = set()
    for side in (change.get("old"), change.get("new")):
        if side:
            names.update(str(side[key]) for key in keys if side.get(key))
    return names


def select(delta: dict[str, Any], patterns: list[str]) -> dict[str, Any] | None:
    """The part of *delta* about interfaces matching *patterns*; None if nothing is left."""
    if not patterns:
        return delta

    def wanted(names: set[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for name in names for p in patterns)

    kept = dict(delta)
    kept["interfaces"] = [c for c in delta.get("interfaces", []) if wanted({c["name"]})]
    kept["routes"] = [
        c for c in delta.get("routes", []) if wanted(_entry_names(c, "next-hop-interface"))
    ]
    kept["route-rules"] = [
        c for c in delta.get("route-rules", []) if wanted(_entry_names(c, "iif"))
    ]
    if not (kept["interfaces"] or kept["routes"] or kept["route-rules"]):
        return None
    return kept


# -- readable form -------------------------------------------------------------------------
def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _at(view: dict[str, Any] | None, path: str) -> Any:
    value: Any = view
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _addresses(view: dict[str, Any], family: str) -> list[str]:
    section = view.get(family) or {}
    return [f"{a['ip']}/{a['prefix-length']}" for a in section.get("address", [])]


def summary(view: dict[str, Any]) -> str:
    parts = [str(view.get("type", "unknown")), str(view.get("state", ""))]
    if view.get("mtu") is not None:
        parts.append(f"mtu {view['mtu']}")
    if view.get("controller"):
        parts.append(f"port of {view['controller']}")
    parts += _addresses(view, "ipv4") + _addresses(view, "ipv6")
    return ", ".join(p for p in parts if p)


def _interface_lines(change: dict[str, Any]) -> str:
    name, old, new = change["name"], change["old"], change["new"]
    if old is None:
        return f"{name}: added ({summary(new)})"
    if new is None:
        return f"{name}: removed"
    parts = []
    for path in change.get("changed", []):
        family = _ADDRESS_PATHS.get(path)
        if family is not None:
            before, after = set(_addresses(old, family)), set(_addresses(new, family))
            signs = [f"+{a}" for a in _addresses(new, family) if a not in before]
            signs += [f"-{a}" for a in _addresses(old, family) if a not in after]
            parts.append(f"{family} address {' '.join(signs)}")
        else:
            parts.append(f"{path} {_value(_at(old, path))} → {_value(_at(new, path))}")
    return f"{name}: {'; '.join(parts) or 'changed'}"


def route_text(entry: dict[str, Any]) -> str:
    text = str(entry.get("destination", "?"))
    if entry.get("route-type"):
        text = f"{entry['route-type']} {text}"
    if entry.get("next-hop-address"):
        text += f" via {entry['next-hop-address']}"
    if entry.get("next-hop-interface"):
        text += f" dev {entry['next-hop-interface']}"
    for key, label in (("metric", "metric"), ("table-id", "table"), ("weight", "weight")):
        if entry.get(key) is not None:
            text += f" {label} {entry[key]}"
    return text


def rule_text(entry: dict[str, Any]) -> str:
    return " ".join(f"{key} {_value(value)}" for key, value in entry.items())


def _entry_line(kind: str, change: dict[str, Any]) -> str:
    text = route_text if kind == "route" else rule_text
    old, new = change.get("old"), change.get("new")
    if old is None:
        return f"{kind} added: {text(new or {})}"
    if new is None:
        return f"{kind} removed: {text(old)}"
    return f"{kind} changed: {text(old)} → {text(new)}"


def describe(delta: dict[str, Any]) -> list[str]:
    """One line per interface, route and rule change (without the time stamp)."""
    job = f" [job {delta['job']}]" if delta.get("job") is not None else ""
    lines = [_interface_lines(change) for change in delta.get("interfaces", [])]
    lines += [_entry_line("route", change) for change in delta.get("routes", [])]
    lines += [_entry_line("rule", change) for change in delta.get("route-rules", [])]
    return [line + job for line in lines]


# -- the command -----------------------------------------------------------------------
class Printer:
    def __init__(self, patterns: list[str], as_json: bool, out: TextIO) -> None:
        self.patterns = patterns
        self.as_json = as_json
        self.out = out

    def state_changed(self, body: str) -> None:
        delta = select(json.loads(body), self.patterns)
        if delta is None:
            return
        if self.as_json:
            self.out.write(json.dumps(delta, separators=(",", ":")) + "\n")
        else:
            stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
            for line in describe(delta):
                self.out.write(f"{stamp} {line}\n")
        self.out.flush()

    def resynced(self, reason: str) -> None:
        if self.as_json:
            self.out.write(json.dumps({"resynced": reason}) + "\n")
        else:
            stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
            self.out.write(f"{stamp} resynced: {reason} (the lines before caught up)\n")
        self.out.flush()


async def watch(conn: Connection, patterns: list[str], as_json: bool) -> int:
    """Print changes until interrupted; fails if nmstated is not (or no longer) there."""
    printer = Printer(patterns, as_json, sys.stdout)
    events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def on_message(msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL:
            return
        if msg.interface == MANAGER and msg.member in ("StateChanged", "Resynced"):
            events.put_nowait((msg.member, str(msg.body[0])))
        elif msg.member == "NameOwnerChanged" and msg.body[0] == BUS_NAME and not msg.body[2]:
            events.put_nowait(("gone", ""))

    conn.bus.add_message_handler(on_message)
    await conn.add_match(
        f"type='signal',sender='{BUS_NAME}',path='{MANAGER_PATH}',interface='{MANAGER}'"
    )
    await conn.add_match(
        "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
        f"member='NameOwnerChanged',arg0='{BUS_NAME}'"
    )
    # Subscribed first, then checked: a daemon that is not there fails now.
    await conn.get(MANAGER_PATH, MANAGER, "Version")
    print("nmstatectl: watching for changes (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        while True:
            kind, body = await events.get()
            if kind == "StateChanged":
                printer.state_changed(body)
            elif kind == "Resynced":
                printer.resynced(body)
            else:
                raise ClientError("nmstated stopped", UNAVAILABLE)
    except BrokenPipeError:  # piped into head, say: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK

"""What ``nmstatectl apply`` prints: the current state of what the request touched.

Each section the request holds is printed as Show reports it now, in Show's
order: ``hostname``, ``dns-resolver`` and ``route-rules`` whole (a rule need
not name an interface); ``routes`` and ``interfaces`` limited to the
interfaces the request names (with their routes and rules, as
``nmstatectl show NAME`` prints them).  The YAML is nmstated's; the client
only cuts it into its top-level sections (and reads the interface names in
it, for ``show`` to say which NAME matched nothing).
"""

from __future__ import annotations

import re

from client.request import SECTIONS, Request, scalar

TYPE_CHECKING = False  # see client/wire.py: no typing import at run time
if TYPE_CHECKING:
    from client.api import Nmstate

#: Sections read from the whole state, never limited to interfaces.
_WHOLE = ("hostname", "dns-resolver", "route-rules")


def yaml_sections(text: str) -> dict[str, str]:
    """nmstated's YAML cut into its top-level sections: key → its lines.

    nmstated writes block-style YAML whose top-level keys start at column 0;
    everything else on a line of its own is indented, or is an item (``- ``)
    of a sequence written at its key's indentation."""
    sections: dict[str, str] = {}
    key = ""
    start = 0
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line[:1] in (" ", "-", "\n", "") or line.startswith("---"):
            continue
        if key:
            sections[key] = "".join(lines[start:number])
        key, start = line.split(":", 1)[0], number
    if key:
        sections[key] = "".join(lines[start:])
    return sections


def interface_names(text: str) -> list[str]:
    """The names of the interfaces in nmstated's YAML.

    The items of ``interfaces`` start at column 0, so their own keys are at
    column 2 (nested keys and nested sequences' items are further in)."""
    section = yaml_sections(text).get("interfaces", "")
    values = re.findall(r"^(?:- |  )name: (.*)$", section, flags=re.MULTILINE)
    try:
        return [str(scalar(value)) for value in values]
    except ValueError:  # a name the simple reader leaves to PyYAML
        import yaml

        entries = yaml.safe_load(section).get("interfaces") or []
        return [str(entry["name"]) for entry in entries]


def applied_state(api: Nmstate, request: Request) -> str:
    """The YAML to print after *request* was applied ("" if it touched nothing)."""
    scope = list(dict.fromkeys(request.names + request.route_names))
    wanted = list(request.sections)
    if request.names:  # an interface's routes and rules, as `show NAME` prints them
        wanted += ["route-rules", "routes"]
    whole_needed = [s for s in _WHOLE if s in request.sections]
    if "routes" in request.sections and not request.all_routes_named:
        whole_needed.append("routes")
    whole = yaml_sections(api.show([], "yaml")) if whole_needed else {}
    part = yaml_sections(api.show(scope, "yaml")) if scope else {}
    chosen = []
    for section in SECTIONS:
        if section not in wanted:
            continue
        text = whole.get(section) if section in whole_needed else part.get(section)
        if text:
            chosen.append(text if text.endswith("\n") else text + "\n")
    return "".join(chosen)

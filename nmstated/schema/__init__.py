"""The input edge: JSON Schema, strict YAML/JSON loading and semantic checks.

``parse_state(text)`` and ``validate_state(value)`` return a validated desired
state or raise ``nmstated.errors.InvalidArgument`` whose one-line message lists
every problem as ``<path>: <what is wrong>``, joined with ``'; '``.
``new_interface_problems(state, existing_names)`` adds the checks that need to
know which interfaces exist.  ``SCHEMA`` is the JSON Schema document.

See ``nmstated.schema.loader`` for how YAML 1.1 ambiguities (``yes``, ``024``,
``0x1f``, unquoted MAC addresses) are handled.
"""

from __future__ import annotations

from nmstated.schema.validate import (
    SCHEMA,
    new_interface_problems,
    parse_state,
    validate_state,
)

__all__ = ["SCHEMA", "new_interface_problems", "parse_state", "validate_state"]

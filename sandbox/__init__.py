"""A real NetworkManager on a private system bus inside a network namespace.

One piece of code used by the pytest fixtures, ``make demo`` and
``make sandbox`` / ``make sandbox-stop``.  See docs/sandbox.md.
"""

from sandbox.core import Sandbox, stop_all

__all__ = ["Sandbox", "stop_all"]

"""Where the daemon's log goes, and the rule that secrets never get there.

Under systemd (stderr connected to the journal) records go to the journal
with their fields; otherwise to stderr.  Every record passes
``SecretMasker`` first: the values of keys such as ``password``, ``psk`` or
``private-key`` are replaced in the message, its arguments and any
traceback, whatever shape they were logged in (JSON, YAML, a Python repr,
``key=value``).
"""

from __future__ import annotations

import logging
import os
import re
import sys

HIDDEN = "<hidden>"

_SECRET_KEY = r"[\w.-]*(?:password|passphrase|psk|secret|private[-_]key|mka-cak)[\w.-]*"
# A key (bare or quoted), ':' or '=', then a quoted string, a <...> repr
# (a dbus-fast Variant), or else the rest of the line: an unquoted YAML
# value may contain spaces and commas, and hiding too much is the safe side.
_SECRET = re.compile(
    rf"""(?P<key>(?P<quote>["']?){_SECRET_KEY}(?P=quote)\s*[:=]\s*)"""
    r"""(?P<value>b?"(?:[^"\\]|\\.)*"|b?'(?:[^'\\]|\\.)*'|<.*?\)>|<[^>]*>|[^\n]*[^\s])""",
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    def hide(match: re.Match[str]) -> str:
        value = match.group("value")
        quote = value[-1] if value[-1] in "\"'" else ""
        return f"{match.group('key')}{quote}{HIDDEN}{quote}"

    return _SECRET.sub(hide, text)


class SecretMasker(logging.Filter):
    """Replace secrets in a record before any handler or formatter sees it.

    The message is rendered and masked once; its arguments are dropped (the
    journal handler would otherwise send them raw as a field) and a
    traceback is rendered and masked into ``exc_text``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = mask_secrets(self._formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def stderr_is_journal() -> bool:
    """systemd's documented test: $JOURNAL_STREAM names stderr's device and inode."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        info = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (device, inode)


def setup_logging(level: str) -> None:
    handler: logging.Handler
    if stderr_is_journal():
        from systemd.journal import JournalHandler

        handler = JournalHandler(SYSLOG_IDENTIFIER="nmstated")
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("nmstated: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMasker())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # pyroute2 logs every netlink message at debug level: far too much to be useful.
    logging.getLogger("pyroute2").setLevel(max(logging.INFO, logging.root.level))

"""Job numbers that keep growing across daemon restarts (until the machine reboots).

A client holding ``/org/nmstate/job/7`` from before a restart must never
meet a different job 7 afterwards.  The highest number handed out is kept
in the run directory (``/run/nmstated``, emptied at boot), reserved in
blocks so that a job costs no file write: after a restart, numbering goes
on past the block, skipping what the old daemon never used.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

BLOCK: Final = 64
FILE_NAME: Final = "job-numbers"


class JobNumbers:
    def __init__(self, run_dir: Path | None) -> None:
        """*run_dir* None: numbers start at 1 and are kept nowhere (tests)."""
        self._file = run_dir / FILE_NAME if run_dir is not None else None
        self._last = self._reserved = self._read()

    def next(self) -> int:
        self._last += 1
        if self._last > self._reserved:
            self._reserved = self._last + BLOCK - 1
            self._write(self._reserved)
        return self._last

    def _read(self) -> int:
        if self._file is None:
            return 0
        try:
            text = self._file.read_text().strip()
        except FileNotFoundError:
            return 0
        except OSError as err:
            log.warning("cannot read %s (%s); job numbers start at 1", self._file, err.strerror)
            return 0
        if not text.isdecimal():
            log.warning("ignoring %s: %r is not a job number", self._file, text[:40])
            return 0
        return int(text)

    def _write(self, reserved: int) -> None:
        if self._file is None:
            return
        partial = self._file.with_name(FILE_NAME + ".tmp")
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(f"{reserved}\n")
            os.replace(partial, self._file)
        except OSError as err:
            log.warning(
                "cannot record job numbers in %s (%s): after a restart they may repeat",
                self._file,
                err.strerror,
            )
            with contextlib.suppress(OSError):
                partial.unlink()

"""Figures measured next to their floor: rounds that interleave the two.

Each round times the thing and then its floor (what NetworkManager's or
iproute2's own tools take for the same work), so a machine that is busy
for a while slows both alike.  The ratio is taken per round, and reported
as the median with its spread (min..max over the rounds), next to the
median and spread of each side.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Paired:
    """(value, floor) per round, in seconds."""

    values: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)

    def add(self, value: float, floor: float) -> None:
        self.values.append(value)
        self.floors.append(floor)

    def result(self) -> dict[str, Any]:
        ratios = [v / f for v, f in zip(self.values, self.floors, strict=True) if f > 0]
        return {
            "rounds": len(self.values),
            "value": spread(self.values),
            "floor": spread(self.floors),
            "ratio": {
                "median": round(statistics.median(ratios), 2) if ratios else None,
                "min": round(min(ratios), 2) if ratios else None,
                "max": round(max(ratios), 2) if ratios else None,
            },
        }


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median and min..max, in milliseconds."""
    if not values:
        return {"n": 0}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
    }


def run_timed(commands: Sequence[Sequence[str]], env: dict[str, str] | None = None) -> float:
    """Run commands one after the other as processes; seconds for all of them.

    Every command must succeed: a failing floor would make a ratio meaningless."""
    started = time.perf_counter()
    for cmd in commands:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout).strip()}")
    return time.perf_counter() - started

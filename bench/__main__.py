"""``python -m bench`` (``make bench``): nmstated's signal and scale figures.

Each scenario runs in its own sandbox (a real NetworkManager and nmstated in
throw-away network namespaces), removed afterwards even on failure.  Prints
a table and writes every figure to bench-results/bench-<time>.json.  These
are measurements, not tests: nothing here passes or fails on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import latency, scale, storm, targets
from sandbox import Sandbox
from sandbox.core import REPO

RESULTS = REPO / "bench-results"
SCENARIOS = ("latency", "storm", "scale", *targets.SCENARIOS)


def in_sandbox(
    run: Callable[[Sandbox], Coroutine[Any, Any, dict[str, Any]]], *daemon_args: str
) -> dict[str, Any]:
    """Run one scenario in a fresh sandbox; a failure is recorded with the daemon's last words."""
    with Sandbox() as box:
        if daemon_args and daemon_args[0] == "--config":
            path = box.workdir / "bench.conf"
            path.write_text(daemon_args[1])
            daemon_args = ("--config", str(path))
        box.start_nmstated(*daemon_args)
        try:
            return asyncio.run(run(box))
        except Exception as err:
            log = box.log_path("nmstated").read_text(errors="replace").splitlines()[-20:]
            return {"error": f"{type(err).__name__}: {err}"[:500], "daemon_log": log}


def row(label: str, figures: dict[str, Any]) -> str:
    return (
        f"  {label:<44} n={figures['n']:<5} p50 {figures['p50_ms']:>8.2f} ms"
        f"   p99 {figures['p99_ms']:>8.2f} ms   max {figures['max_ms']:>8.2f} ms"
    )


def print_table(results: dict[str, Any]) -> None:
    machine = results["machine"]
    print(f"\nnmstated benchmarks — kernel {machine['kernel']}, {machine['cpus']} CPUs\n")
    print("event → StateChanged latency (ip in the namespace, subscriber on the bus)")
    for key, label in (
        ("latency_default_window", "window 30 ms (default)"),
        ("latency_no_window", "window 0 ms"),
    ):
        if key not in results or _failed(key, results[key]):
            continue
        print(row(f"{label}, from the ip command", results[key]["all"]))
        print(row(f"{label}, from the kernel event", results[key]["from_kernel_event"]))
    if "by_change" in results.get("latency_no_window", {}):
        for kind, figures in results["latency_no_window"]["by_change"].items():
            print(row(f"  window 0, {kind}, from the command", figures))
    for key in ("storm", "storm_frozen"):
        if key not in results or _failed(key, results[key]):
            continue
        s = results[key]
        how = "daemon frozen (SIGSTOP) during the storm" if s["daemon_frozen"] else "daemon reading"
        print(f"\nroute storm: {s['route_changes']:,} route adds + deletes with ip -batch — {how}")
        print(f"  ip took {s['ip_seconds']} s; daemon caught up after {s['caught_up_seconds']} s")
        print(
            f"  kernel drops {s['kernel_drops']}, Resynced {s['resynced_signals']}, "
            f"StateChanged {s['state_changed_signals']}, final cache = kernel: "
            f"{'yes' if s['final_cache_equals_kernel'] else 'NO'}, silent loss: "
            f"{'YES' if s['silent_loss'] else 'none'}"
        )
        print(
            f"  daemon CPU {s['daemon_cpu_seconds']} s ({s['daemon_cpu_percent']} % of one CPU), "
            f"RSS {s['daemon_rss_mib_before']} → max {s['daemon_rss_mib_max']} MiB"
        )
        if s["show_during_storm"]["n"]:
            print(row("Show during the storm", s["show_during_storm"]))
            print(row("Show kernel-only during the storm", s["show_kernel_only_during_storm"]))
    if "scale" not in results or _failed("scale", results["scale"]):
        return
    sc = results["scale"]
    print(
        f"\nShow with {sc['interfaces']:,} interfaces and {sc['routes_running']:,} routes "
        f"(daemon RSS {sc['daemon_rss_mib']} MiB)"
    )
    for key, label in (
        ("show", "Show (full, JSON)"),
        ("show_kernel_only", "Show kernel-only"),
        ("ip_json_addr_plus_route", "ip -j addr + ip -j route"),
    ):
        if sc[key]["n"]:
            print(row(label, sc[key]))
    for key, error in sc["errors"].items():
        print(f"  {key}: FAILED: {error}")


def _failed(name: str, section: dict[str, Any]) -> bool:
    if "error" not in section:
        return False
    print(f"  {name}: FAILED: {section['error']}")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=100, help="latency rounds (7 changes each)")
    parser.add_argument(
        "--routes", type=int, default=10000, help="routes in the storm and at scale"
    )
    parser.add_argument(
        "--pairs", type=int, default=500, help="veth pairs at scale (2 interfaces each)"
    )
    parser.add_argument("--repeat", type=int, default=10, help="timed calls at scale")
    targets.add_arguments(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIOS,
        default=list(SCENARIOS),
        help="run only these scenarios",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces, a real NetworkManager)")

    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "machine": {
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "parameters": vars(args),
    }
    steps: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        (
            "latency",
            "latency_default_window",
            lambda: in_sandbox(lambda box: latency.measure(box, args.rounds)),
        ),
        (
            "latency",
            "latency_no_window",
            lambda: in_sandbox(
                lambda box: latency.measure(box, args.rounds),
                "--config",
                "[signals]\ncoalesce-ms = 0\n",
            ),
        ),
        (
            "storm",
            "storm",
            lambda: in_sandbox(lambda box: storm.measure(box, args.routes, frozen=False)),
        ),
        (
            "storm",
            "storm_frozen",
            lambda: in_sandbox(lambda box: storm.measure(box, 3 * args.routes, frozen=True)),
        ),
        (
            "scale",
            "scale",
            lambda: in_sandbox(
                lambda box: scale.measure(box, args.pairs, args.routes, args.repeat)
            ),
        ),
    ]
    steps += targets.steps(args, in_sandbox)
    for scenario, key, measure in steps:
        if scenario in args.only:
            print(f"{key.replace('_', ' ')} ...", flush=True)
            results[key] = measure()
    results["seconds"] = round(time.time() - started, 1)

    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    targets.print_table(results)
    print(f"\nwrote {Path(target).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

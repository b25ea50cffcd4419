"""nmstated's performance targets (issue 7): the scenarios and the table.

Each target is a figure next to its floor, measured in the same run (see
bench/paired.py); the table prints the median, the spread, the ratio and
whether the target is met.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from bench import apply, show
from sandbox import Sandbox

SCENARIOS = ("show", "show-scale", "apply", "veth")
MIB_TO_MB = 1.048576
WIDTHS = (6, 8, 8, 13, 19)  # the veth table's columns
InSandbox = Callable[[Callable[[Sandbox], Coroutine[Any, Any, dict[str, Any]]]], dict[str, Any]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show-rounds", type=int, default=30, help="rounds of the Show figures")
    parser.add_argument(
        "--apply-rounds", type=int, default=20, help="rounds of the one-address apply"
    )
    parser.add_argument("--bridge-rounds", type=int, default=5, help="rounds of the bridge apply")
    parser.add_argument(
        "--veth-sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10, 100, 500],
        help="veth pairs per request, comma-separated (default 10,100,500)",
    )
    parser.add_argument(
        "--veth-floor-sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10, 100],
        help="sizes also done with an nmcli loop (default 10,100)",
    )
    parser.add_argument("--veth-rounds", type=int, default=3, help="rounds per veth size")
    parser.add_argument(
        "--crowd-pairs",
        type=int,
        default=450,
        help="veth pairs present while the probe pairs come and go (default 450)",
    )
    parser.add_argument(
        "--probe-pairs", type=int, default=10, help="pairs added alone and in the crowd"
    )


def steps(
    args: argparse.Namespace, in_sandbox: InSandbox
) -> list[tuple[str, str, Callable[[], dict[str, Any]]]]:
    return [
        ("show", "show_small", lambda: in_sandbox(lambda box: show.measure(box, args.show_rounds))),
        (
            "show-scale",
            "show_scale",
            lambda: in_sandbox(
                lambda box: show.measure_scale(box, args.pairs, args.routes, args.repeat)
            ),
        ),
        (
            "apply",
            "apply_static",
            lambda: in_sandbox(lambda box: apply.static_change(box, args.apply_rounds)),
        ),
        (
            "apply",
            "apply_bridge",
            lambda: in_sandbox(lambda box: apply.bridge(box, args.bridge_rounds)),
        ),
        (
            "veth",
            "apply_veth",
            lambda: in_sandbox(
                lambda box: apply.veths(
                    box, args.veth_sizes, args.veth_rounds, args.veth_floor_sizes
                )
            ),
        ),
        (
            "veth",
            "apply_veth_crowd",
            lambda: in_sandbox(
                lambda box: apply.crowd(box, args.crowd_pairs, args.probe_pairs, args.veth_rounds)
            ),
        ),
    ]


class Row:
    def __init__(
        self, target: str, value: str, floor: str, ratio: str, goal: str, met: bool | None
    ):
        self.cells = (target, value, floor, ratio, goal, _verdict(met))


def _mb(mib: float) -> str:
    return f"{mib * MIB_TO_MB:.1f} MB"


def _verdict(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "MISSED")


def _ms(figures: dict[str, Any]) -> str:
    if not figures or not figures.get("n"):
        return "-"
    return f"{figures['median_ms']:.1f} ({figures['min_ms']:.1f}..{figures['max_ms']:.1f})"


def _ratio(paired: dict[str, Any]) -> str:
    ratio = paired["ratio"]
    if ratio["median"] is None:
        return "-"
    return f"{ratio['median']:.2f}x ({ratio['min']:.2f}..{ratio['max']:.2f})"


def _paired_row(target: str, paired: dict[str, Any], limit: float) -> Row:
    median = paired["ratio"]["median"]
    return Row(
        target,
        _ms(paired["value"]),
        _ms(paired["floor"]),
        _ratio(paired),
        f"≤ {limit:g}x floor",
        None if median is None else median <= limit,
    )


def rows(results: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    small = results.get("show_small", {})
    if "show_dbus" in small:
        paired = small["show_dbus"]
        out.append(
            Row(
                f"Show (D-Bus, JSON), {small['interfaces']} interfaces",
                _ms(paired["value"]),
                _ms(paired["floor"]),
                _ratio(paired),
                "≤ 10 ms",
                paired["value"]["median_ms"] <= 10,
            )
        )
    big = results.get("show_scale", {})
    if "show_unchanged" in big:
        where = f"{big['interfaces']:,} interfaces, {big['routes_running']:,} routes"
        for key, when in (
            ("show_unchanged", "unchanged"),
            ("show_after_a_route_change", "changed"),
        ):
            paired = big[key]
            out.append(
                Row(
                    f"Show (D-Bus, JSON), {where}, {when}",
                    _ms(paired["value"]),
                    _ms(paired["floor"]),
                    _ratio(paired),
                    "≤ 100 ms",
                    paired["value"]["median_ms"] <= 100,
                )
            )
    if "nmstatectl_show_yaml" in small:
        out.append(_paired_row("nmstatectl show (process, YAML)", small["nmstatectl_show_yaml"], 3))
        out.append(
            _paired_row("nmstatectl show --json (process)", small["nmstatectl_show_json"], 3)
        )
    static = results.get("apply_static", {})
    if "daemon_to_verified" in static:
        out.append(
            _paired_row(
                "one static IPv4 change: request → verified", static["daemon_to_verified"], 1.5
            )
        )
        whole = static["daemon_apply_and_wait"]
        out.append(
            Row(
                "  (ApplyAndWait: … → committed)",
                _ms(whole["value"]),
                _ms(whole["floor"]),
                _ratio(whole),
                "",
                None,
            )
        )
        out.append(
            _paired_row(
                "one static IPv4 change: nmstatectl apply", static["nmstatectl_apply_process"], 3
            )
        )
    bridge = results.get("apply_bridge", {})
    if "bridge_from_nothing" in bridge:
        out.append(
            _paired_row(
                "bridge + 2 ports + address, from nothing", bridge["bridge_from_nothing"], 1.5
            )
        )
    for size, figures in results.get("apply_veth", {}).get("veth_pairs", {}).items():
        if "total" in figures:
            out.append(_paired_row(f"{size} veth pairs: add + remove", figures["total"], 1.5))
            for part in ("add", "remove"):
                paired = figures[part]
                out.append(
                    Row(
                        f"  ({part})",
                        _ms(paired["value"]),
                        _ms(paired["floor"]),
                        _ratio(paired),
                        "",
                        None,
                    )
                )
    if "daemon_rss_mib_idle" in small:
        rss = small["daemon_rss_mib_idle"]
        out.append(Row("daemon RSS, idle", _mb(rss), "", "", "≤ 60 MB", rss * MIB_TO_MB <= 60))
    if big.get("daemon_rss_mib"):
        rss = big["daemon_rss_mib"]
        out.append(
            Row(
                f"daemon RSS, {big['interfaces']:,} interfaces, {big['routes_running']:,} routes",
                _mb(rss),
                "",
                "",
                "≤ 150 MB",
                rss * MIB_TO_MB <= 150,
            )
        )
    return out


def print_table(results: dict[str, Any]) -> None:
    table = rows(results)
    if not table:
        return
    header = ("target", "median (min..max) ms", "floor ms", "ratio (min..max)", "goal", "")
    cells = [header, *(row.cells for row in table)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    print("\nperformance targets (each next to its floor, same run)")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row.cells, widths, strict=True)))
    veth = results.get("apply_veth", {}).get("veth_pairs", {})
    if veth:
        print("\nveth pairs in one request: cost per interface (ms), and CPU per interface (ms)")
        columns = ("pairs", "add", "remove", "CPU nmstated", "CPU NetworkManager")
        print("  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, WIDTHS, strict=True)))
        for size, figures in veth.items():
            per, cpu = figures["per_interface_ms"], figures["cpu_per_interface_ms"]
            values = (per["add"], per["remove"], cpu["nmstated"], cpu["NetworkManager"])
            numbers = [f"{size:>{WIDTHS[0]}}"]
            numbers += [f"{v:>{w}.2f}" for v, w in zip(values, WIDTHS[1:], strict=True)]
            print("  " + "  ".join(numbers))
    crowd = results.get("apply_veth_crowd")
    if crowd:
        _print_crowd(crowd)


def _print_crowd(crowd: dict[str, Any]) -> None:
    print(
        f"\n{crowd['probe_interfaces']} interfaces added and removed, per interface (ms): "
        f"alone, and beside {crowd['crowd_interfaces']:,} others"
    )
    columns = ("", "wall", "CPU nmstated", "CPU NetworkManager")
    widths = (9, 8, 13, 19)
    print("  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for label in ("alone", "crowded"):
        figures = crowd[label]
        values = (
            figures["wall_ms"],
            figures["cpu_nmstated_ms"],
            figures["cpu_NetworkManager_ms"],
        )
        cells = [f"{label:>{widths[0]}}"]
        cells += [f"{v:>{w}.2f}" for v, w in zip(values, widths[1:], strict=True)]
        print("  " + "  ".join(cells))

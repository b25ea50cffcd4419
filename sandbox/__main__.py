"""``python -m sandbox start|stop|status``: the sandbox for humans (make sandbox)."""

from __future__ import annotations

import argparse
import sys

from sandbox.core import CLI_ORIGIN, Sandbox, SandboxError, recorded, stop_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start NetworkManager and nmstated in a new sandbox")
    start.add_argument("--nics", type=int, default=4, help="how many test NICs (default 4)")
    start.add_argument("--no-daemon", action="store_true", help="start NetworkManager only")
    stop = sub.add_parser("stop", help="stop the sandboxes `start` started from this checkout")
    stop.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="only these sandboxes (as `status` lists them); default: every one `start` started",
    )
    stop.add_argument(
        "--all",
        action="store_true",
        help="stop every recorded sandbox, also those of test runs that crashed",
    )
    sub.add_parser("status", help="list running sandboxes")
    args = parser.parse_args(argv)

    if args.command == "stop":
        try:
            count = stop_all(None if args.all else CLI_ORIGIN, names=args.names or None)
        except SandboxError as err:
            print(f"sandbox: {err}", file=sys.stderr)
            return 1
        print(f"stopped {count} sandbox(es)")
        return 0
    if args.command == "status":
        for box in recorded():
            print(f"{box.netns}  bus={box.bus_address}  processes={sorted(box.processes)}")
        return 0
    box = Sandbox(nic_count=args.nics, origin=CLI_ORIGIN)
    try:
        box.start()
        if not args.no_daemon:
            box.start_nmstated()
    except SandboxError as err:
        box.stop()
        print(f"sandbox: {err}", file=sys.stderr)
        return 1
    print(f"sandbox {box.netns} is running with NICs {', '.join(box.nics)}")
    print("use it with:")
    print(f"  export DBUS_SYSTEM_BUS_ADDRESS={box.bus_address}")
    print("  .venv/bin/nmstatectl show")
    print(f"  ip -n {box.netns} addr")
    print("stop it with: make sandbox-stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())

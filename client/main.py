"""nmstatectl — show and apply network state through the nmstated service.

Everything goes over D-Bus to org.nmstate, so busctl and desktop tools can do
what this client does.  The client never imports the daemon.  One-shot
commands use a small blocking D-Bus connection (client/connection.py) and
import PyYAML only to print YAML; only ``monitor`` runs an asyncio loop
(dbus-fast), so the others start in a fraction of the time.
Exit codes: see client/exits.py (and the man page generated from this parser).
"""

from __future__ import annotations

import argparse
import os
import sys

from client import commands, exits
from client.api import Nmstate, job_path
from client.exits import ClientError, error_from_dbus

DESCRIPTION = (
    "Show and apply declarative network state (the nmstate schema, YAML or JSON) through "
    "nmstated, the org.nmstate service on the system bus. Every apply runs inside a "
    "NetworkManager checkpoint: it is verified and committed, or rolled back."
)


def job_argument(text: str) -> str:
    try:
        return job_path(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def seconds_argument(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of seconds (1 or more)")
    return int(text)


class _PrintVersion(argparse.Action):
    """``--version``: the client's version, looked up only when asked for (it costs an import)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        print(f"nmstatectl {commands.client_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nmstatectl", description=DESCRIPTION)
    parser.add_argument(
        "--version", nargs=0, action=_PrintVersion, help="print the client's version and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    show = sub.add_parser(
        "show",
        help="show the current network state",
        description="Print the current network state (YAML unless --json). A NAME matching "
        "no interface is named on stderr; a missing NAME that is not a glob fails (exit 1).",
    )
    show.add_argument("names", nargs="*", metavar="NAME", help="interface names or shell globs")
    show.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    show.add_argument(
        "-r",
        "--running-config",
        action="store_true",
        help="only what is configured, nothing learned at run time (DHCP leases, kernel routes)",
    )

    for name in ("apply", "set"):
        apply = sub.add_parser(
            name,
            help="apply desired state from files or stdin"
            if name == "apply"
            else "the same as apply",
            description="Apply each FILE in turn ('-' or none: standard input) and print the "
            "current state of what it touched: each section it holds (hostname, dns-resolver, "
            "route-rules, routes) and the interfaces it names, with their routes and rules.",
        )
        apply.add_argument(
            "files", nargs="*", metavar="FILE", help="desired state, YAML or JSON ('-': stdin)"
        )
        apply.add_argument(
            "--no-verify", action="store_true", help="do not check the result against the state"
        )
        apply.add_argument(
            "--no-commit",
            action="store_true",
            help="keep the checkpoint: the change is rolled back at the deadline unless "
            "'nmstatectl commit' keeps it",
        )
        apply.add_argument(
            "--timeout",
            type=seconds_argument,
            metavar="SECONDS",
            help="rollback deadline of the checkpoint (default: the daemon's, 60)",
        )
        apply.add_argument(
            "--memory-only",
            action="store_true",
            help="do not save profiles to disk: the change is gone after a reboot",
        )
        apply.add_argument(
            "--dry-run", action="store_true", help="print what would change; change nothing"
        )
        apply.add_argument("-q", "--quiet", action="store_true", help="do not print the result")

    for name, verb in (("commit", "keep"), ("rollback", "undo")):
        decide = sub.add_parser(
            name,
            help=f"{verb} the changes of a job applied with --no-commit",
            description=f"{verb.capitalize()} the changes of JOB, or of the job awaiting "
            "commit when JOB is left out.",
        )
        decide.add_argument(
            "job",
            nargs="?",
            type=job_argument,
            metavar="JOB",
            help="job number or object path (default: the job awaiting commit)",
        )

    cancel = sub.add_parser(
        "cancel",
        help="cancel a job",
        description="Drop a queued job, or roll back a running job or one awaiting commit.",
    )
    cancel.add_argument("job", type=job_argument, metavar="JOB", help="job number or object path")

    jobs = sub.add_parser(
        "jobs",
        help="list queued, running and recent jobs",
        description="List the jobs nmstated knows: queued, running and recently finished ones.",
    )
    jobs.add_argument("--json", action="store_true", help="print JSON instead of a table")

    monitor_ = sub.add_parser(
        "monitor",
        help="print network changes as they happen",
        description="Print each change of interfaces, addresses, routes and route rules as "
        "nmstated reports it (org.nmstate.Manager's StateChanged signal), until interrupted.",
    )
    monitor_.add_argument(
        "names", nargs="*", metavar="NAME", help="only these interfaces (names or shell globs)"
    )
    monitor_.add_argument(
        "--json", action="store_true", help="print each change as one JSON object per line"
    )

    sub.add_parser(
        "version",
        help="print the client's and the daemon's versions",
        description="Print the versions of nmstatectl and of the running nmstated.",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    texts: list[tuple[str, str]] = []
    if args.command in ("apply", "set"):
        if args.no_commit and len(args.files) > 1:
            raise ClientError("--no-commit takes one FILE: commit it before the next", exits.USAGE)
        # Read every input before touching the bus: a typo in a path fails fast.
        texts = [(path, commands.read_input(path)) for path in args.files or ["-"]]
    if args.command == "monitor":
        return run_monitor(args)
    if args.command == "version":  # the client's, whether or not the daemon answers
        print(f"nmstatectl {commands.client_version()}", flush=True)
    try:
        api = Nmstate.open()
    except ClientError as err:
        if args.command == "version":
            raise ClientError(f"nmstated could not be reached: {err}", err.code) from None
        raise
    try:
        if args.command == "show":
            return commands.show(api, args)
        if args.command in ("apply", "set"):
            return commands.apply(api, args, texts)
        if args.command in ("commit", "rollback"):
            return commands.decide(api, args)
        if args.command == "cancel":
            return commands.cancel(api, args)
        if args.command == "jobs":
            return commands.jobs(api, args)
        return commands.version(api, args)
    finally:
        api.close()


def run_monitor(args: argparse.Namespace) -> int:
    """``monitor`` waits for signals for as long as it runs: asyncio and dbus-fast."""
    import asyncio

    from dbus_fast import DBusError

    from client import monitor
    from client.bus import Connection

    async def watch() -> int:
        conn = await Connection.open()
        try:
            return await monitor.watch(conn, args.names, args.json)
        finally:
            conn.close()

    try:
        return asyncio.run(watch())
    except DBusError as err:
        raise error_from_dbus(err.type, err.text) from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exits.USAGE if exit_.code else exits.OK
    if args.command is None:
        parser.print_usage(sys.stderr)
        return exits.USAGE
    try:
        return run(args)
    except ClientError as err:
        print(f"nmstatectl: error: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`nmstatectl show | head`): that is not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.OK

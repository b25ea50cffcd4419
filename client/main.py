"""nmstatectl — show and apply network state through the nmstated service.

Everything goes over D-Bus to org.nmstate, so busctl and desktop tools can do
what this client does.  Exit codes: 0 ok, 1 apply failed (rolled back),
64 usage, 65 invalid input, 66 input file missing, 69 service unavailable,
busy or conflict, 77 permission denied.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from dbus_fast import BusType, DBusError, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

BUS_NAME = "org.nmstate"
MANAGER_PATH = "/org/nmstate"
MANAGER = "org.nmstate.Manager"
JOB = "org.nmstate.Job"
ERROR_PREFIX = "org.nmstate.Error."

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 64
EXIT_INVALID = 65
EXIT_NO_INPUT = 66
EXIT_UNAVAILABLE = 69
EXIT_PERMISSION = 77

EXIT_FOR_KIND = {
    "InvalidArgument": EXIT_INVALID,
    "Conflict": EXIT_UNAVAILABLE,
    "QueueFull": EXIT_UNAVAILABLE,
    "PermissionDenied": EXIT_PERMISSION,
}


class ClientError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def error_from_dbus(name: str, text: str) -> ClientError:
    if name.startswith(ERROR_PREFIX):
        kind = name[len(ERROR_PREFIX) :]
        return ClientError(text, EXIT_FOR_KIND.get(kind, EXIT_FAILED))
    if name in (
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ):
        return ClientError("nmstated is not running (no owner of org.nmstate)", EXIT_UNAVAILABLE)
    if name == "org.freedesktop.DBus.Error.AccessDenied":
        return ClientError(f"permission denied: {text}", EXIT_PERMISSION)
    return ClientError(f"{text} ({name})", EXIT_FAILED)


class Connection:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    @classmethod
    async def open(cls) -> Connection:
        try:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError) as err:
            raise ClientError(f"cannot reach the system bus: {err}", EXIT_UNAVAILABLE) from None
        return cls(bus)

    async def call(
        self,
        path: str,
        interface: str,
        member: str,
        signature: str = "",
        body: list[Any] | None = None,
    ) -> list[Any]:
        reply = await self.bus.call(
            Message(
                destination=BUS_NAME,
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=body or [],
            )
        )
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            text = str(reply.body[0]) if reply.body else ""
            raise error_from_dbus(reply.error_name or "", text)
        return list(reply.body)

    async def add_match(self, rule: str) -> None:
        await self.bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )

    async def show(self, names: list[str], fmt: str) -> str:
        options: dict[str, Variant] = {"format": Variant("s", fmt)}
        if names:
            options["interfaces"] = Variant("as", names)
        (text,) = await self.call(MANAGER_PATH, MANAGER, "Show", "a{sv}", [options])
        return str(text)

    async def apply(self, text: str, options: dict[str, Variant], progress: bool) -> str:
        """Apply and wait for the job to end; returns its path, raises ClientError if it failed."""
        finished: dict[str, asyncio.Future[list[Any]]] = {}
        loop = asyncio.get_running_loop()

        def on_signal(msg: Message) -> None:
            if msg.message_type != MessageType.SIGNAL or msg.interface not in (
                JOB,
                "org.freedesktop.DBus.Properties",
            ):
                return
            path = msg.path or ""
            if msg.member == "Finished":
                fut = finished.setdefault(path, loop.create_future())
                if not fut.done():
                    fut.set_result(list(msg.body))
            elif progress and msg.member == "PropertiesChanged" and msg.body[0] == JOB:
                state = msg.body[1].get("Progress") or msg.body[1].get("State")
                if state is not None and state.value:
                    print(f"  {state.value}", file=sys.stderr)

        self.bus.add_message_handler(on_signal)
        # Subscribe before calling Apply, so the job's end cannot be missed.
        await self.add_match(f"type='signal',sender='{BUS_NAME}',interface='{JOB}'")
        if progress:
            await self.add_match(
                f"type='signal',sender='{BUS_NAME}',"
                "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'"
            )
        (job,) = await self.call(MANAGER_PATH, MANAGER, "Apply", "sa{sv}", [text, options])
        fut = finished.setdefault(job, loop.create_future())
        if not fut.done():
            (state,) = await self.call(
                job, "org.freedesktop.DBus.Properties", "Get", "ss", [JOB, "State"]
            )
            if state.value in ("succeeded", "failed", "rolled-back", "cancelled"):
                (error,) = await self.call(
                    job, "org.freedesktop.DBus.Properties", "Get", "ss", [JOB, "Error"]
                )
                fut.set_result([state.value, *error.value])
        state, kind, message = await fut
        if state != "succeeded":
            raise ClientError(message or f"job ended {state}", EXIT_FOR_KIND.get(kind, EXIT_FAILED))
        return str(job)

    async def job_property(self, job: str, name: str) -> Any:
        (value,) = await self.call(job, "org.freedesktop.DBus.Properties", "Get", "ss", [JOB, name])
        return value.value


def client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nmstated")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nmstatectl",
        description="Show and apply network state through nmstated (org.nmstate on D-Bus).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = sub.add_parser("show", help="show the current network state (YAML)")
    show.add_argument("names", nargs="*", metavar="NAME", help="interface names or shell globs")
    show.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    for name in ("apply", "set"):
        apply = sub.add_parser(
            name,
            help="apply desired state from files ('-' reads stdin)"
            if name == "apply"
            else "alias of apply",
        )
        apply.add_argument("files", nargs="+", metavar="FILE")
        apply.add_argument("--quiet", "-q", action="store_true", help="do not print the result")
        apply.add_argument(
            "--dry-run", action="store_true", help="print what would change; change nothing"
        )
    sub.add_parser("version", help="print the client's and the daemon's versions")
    return parser


def read_input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ClientError(f"{path}: no such file", EXIT_NO_INPUT) from None
    except UnicodeDecodeError:
        raise ClientError(f"{path}: not UTF-8 text", EXIT_INVALID) from None
    except OSError as err:
        raise ClientError(f"{path}: {err.strerror}", EXIT_NO_INPUT) from None


def applied_names(text: str) -> list[str]:
    """Interface names in an applied state, to show the result (best effort)."""
    import re

    try:
        data = json.loads(text)
        return [str(i["name"]) for i in data.get("interfaces", [])]
    except (ValueError, AttributeError, TypeError, KeyError):
        return re.findall(r"^\s*-?\s*name:\s*['\"]?([^'\"\s#]+)", text, flags=re.MULTILINE)


def print_diff(diff: dict[str, Any]) -> None:
    if not diff.get("interfaces"):
        print("# nothing would change")
        return
    import yaml  # only this path needs it; the client stays quick to start

    print("# would change:")
    print(yaml.safe_dump(diff, sort_keys=False, default_flow_style=False), end="")


async def run(args: argparse.Namespace) -> int:
    # Read every input before touching the bus: a typo in a path fails fast.
    texts = [(path, read_input(path)) for path in getattr(args, "files", [])]
    conn = await Connection.open()
    try:
        if args.command == "show":
            print(await conn.show(args.names, "json" if args.json else "yaml"), end="")
            if args.json:
                print()
        elif args.command in ("apply", "set"):
            options = {"dry-run": Variant("b", True)} if args.dry_run else {}
            for path, text in texts:
                job = await conn.apply(text, options, progress=sys.stderr.isatty())
                if args.dry_run:
                    print_diff(json.loads(await conn.job_property(job, "Diff")))
                elif not args.quiet:
                    names = applied_names(text)
                    if names:
                        print(await conn.show(names, "yaml"), end="")
                if len(texts) > 1:
                    print(f"# applied {path}", file=sys.stderr)
        elif args.command == "version":
            print(f"nmstatectl {client_version()}")
            (value,) = await conn.call(
                MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER, "Version"]
            )
            print(f"nmstated {value.value}")
        return EXIT_OK
    finally:
        conn.bus.disconnect()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(run(args))
    except ClientError as err:
        print(f"nmstatectl: error: {err}", file=sys.stderr)
        return err.code
    except DBusError as err:
        failure = error_from_dbus(err.type, err.text)
        print(f"nmstatectl: error: {failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return 130

"""What each nmstatectl command does, over D-Bus only.

The one-shot commands use a blocking connection (client/api.py).  nmstated
writes the YAML we print, so the client does not import PyYAML (~15 ms)
except to print a dry run's diff, or to read an input that client/request.py's
own reader leaves to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from client import exits
from client.api import (
    FINAL_STATES,
    JOB,
    MANAGER,
    MANAGER_PATH,
    SETTLED_STATES,
    JobView,
    Nmstate,
)
from client.exits import ClientError, error_from_job
from client.wire import Variant

TYPE_CHECKING = False  # see client/wire.py: no typing import at run time
if TYPE_CHECKING:
    from typing import Any


def read_input(path: str) -> str:
    """The text of a state file ('-': standard input), checked to fit in a D-Bus string."""
    from client.request import MAX_STATE_CHARS  # what apply needs, only apply imports

    where = "standard input" if path == "-" else path
    # UTF-8 takes at most 4 bytes a character: reading more than that is pointless.
    cap = 4 * MAX_STATE_CHARS + 1
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(cap)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(cap)
        if len(raw) == cap:
            raise too_large(where)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ClientError(f"{path}: no such file", exits.NO_INPUT) from None
    except UnicodeDecodeError as err:
        raise ClientError(
            f"{where}: not UTF-8 text (byte {err.start} is 0x{raw[err.start]:02x})",
            exits.INVALID_INPUT,
        ) from None
    except OSError as err:
        raise ClientError(f"{where}: {err.strerror}", exits.NO_INPUT) from None
    if len(text) > MAX_STATE_CHARS:
        raise too_large(where)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ClientError(f"{where}: line {line}: a NUL character", exits.INVALID_INPUT)
    return text


def too_large(where: str) -> ClientError:
    from client.request import MAX_STATE_CHARS

    return ClientError(
        f"{where}: larger than nmstated accepts ({MAX_STATE_CHARS} characters)",
        exits.INVALID_INPUT,
    )


def apply_options(args: argparse.Namespace) -> dict[str, Variant]:
    options: dict[str, Variant] = {}
    if args.no_verify:
        options["verify"] = Variant("b", False)
    if args.no_commit:
        options["commit"] = Variant("b", False)
    if args.timeout is not None:
        options["rollback-timeout"] = Variant("u", args.timeout)
    if args.memory_only:
        options["memory-only"] = Variant("b", True)
    if args.dry_run:
        options["dry-run"] = Variant("b", True)
    return options


class Progress:
    """Prints a job's state and progress on stderr as they change (on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.path = ""

    def __call__(self, view: JobView, changed: set[str]) -> None:
        if not self.enabled or view.path != self.path or not changed & {"State", "Progress"}:
            return
        progress = view.props.get("Progress", "")
        line = f"job {view.id}: {view.state}" + (f": {progress}" if progress else "")
        print(line, file=sys.stderr)


def show(api: Nmstate, args: argparse.Namespace) -> int:
    if args.json:  # nmstated writes JSON on one line, its quickest; indented for people
        state = json.loads(api.show(args.names, "json", args.running_config))
        print(json.dumps(state, indent=2))
        names = [str(i.get("name")) for i in state.get("interfaces", [])] if args.names else []
    else:
        from client.result import interface_names

        text = api.show(args.names, "yaml", args.running_config)
        print(text, end="" if text.endswith("\n") else "\n")
        names = interface_names(text) if args.names else []
    return say_unmatched(args.names, names)


def say_unmatched(patterns: list[str], names: list[str]) -> int:
    """Name each NAME or glob that matched no interface on stderr.

    Like ``ip link show NAME`` and ``nmcli device show NAME``, a name that is
    not there fails the command (exit 1), so a script can test for it; a glob
    is a filter, and one that matches nothing is only noted (exit 0)."""
    from fnmatch import fnmatchcase  # as nmstated matches them

    code = exits.OK
    for pattern in patterns:
        if any(fnmatchcase(name, pattern) for name in names):
            continue
        print(f"nmstatectl: no interface matches {pattern}", file=sys.stderr)
        if not any(char in pattern for char in "*?["):
            code = exits.FAILED
    return code


def apply(api: Nmstate, args: argparse.Namespace, texts: list[tuple[str, str]]) -> int:
    from client.request import read_request
    from client.result import applied_state

    options = apply_options(args)
    progress = Progress(sys.stderr.isatty())
    follower = api.follow_jobs(progress)
    for path, text in texts:
        try:
            job = api.manager("Apply", "sa{sv}", text, options, changes=True)
            progress.path = job
            say_what_it_waits_for(api, job)
            view = follower.wait(job, SETTLED_STATES)
            if view.state in FINAL_STATES and view.state != "succeeded":
                raise error_from_job(view.state, *view.error)
        except ClientError as err:
            if len(texts) == 1:
                raise
            raise ClientError(f"{path}: {err}", err.code) from None  # which of the files
        if args.dry_run:
            print_diff(json.loads(api.get(job, JOB, "Diff")))
        elif not args.quiet:
            print(applied_state(api, read_request(text)), end="")
        if view.state == "awaiting-commit":
            print_pending(view)
        if len(texts) > 1:
            print(f"# applied {path}", file=sys.stderr)
    return exits.OK


def say_what_it_waits_for(api: Nmstate, job: str) -> None:
    """A job queued behind one awaiting commit may wait until that one's deadline: say so."""
    if api.get(job, JOB, "State") != "queued":
        return
    for other in api.get(MANAGER_PATH, MANAGER, "Jobs"):
        view = JobView(other, api.get_all(other, JOB))
        if view.state == "awaiting-commit":
            deadline = int(view.props.get("RollbackDeadline", 0)) / 1_000_000
            when = time.strftime("%H:%M:%S", time.localtime(deadline))
            print(
                f"nmstatectl: job {job.rsplit('/', 1)[-1]} waits for job {view.id}, which awaits "
                f"commit (rolled back at {when} unless committed)",
                file=sys.stderr,
            )
            return


def print_pending(view: JobView) -> None:
    deadline = int(view.props.get("RollbackDeadline", 0)) / 1_000_000
    left = max(0, round(deadline - time.time()))
    when = time.strftime("%H:%M:%S", time.localtime(deadline))
    print(
        f"job {view.id} awaits commit until {when} (in {left} s): "
        f"'nmstatectl commit {view.id}' keeps the change, "
        f"'nmstatectl rollback {view.id}' undoes it now",
        file=sys.stderr,
    )


def print_diff(diff: dict[str, Any]) -> None:
    if not any(diff.get(key) for key in diff):
        print("# nothing would change")
        return
    import yaml  # only this path needs it; the client stays quick to start

    print("# would change:")
    print(yaml.safe_dump(diff, sort_keys=False, default_flow_style=False), end="")


def decide(api: Nmstate, args: argparse.Namespace) -> int:
    """commit / rollback: the named job, or the one awaiting commit."""
    member = "Commit" if args.command == "commit" else "Rollback"
    target = args.job or "/"
    api.manager(member, "o", target, changes=True)
    done = "committed" if member == "Commit" else "rolled back"
    print(f"job {target.rsplit('/', 1)[-1]}: {done}" if args.job else done)
    return exits.OK


def cancel(api: Nmstate, args: argparse.Namespace) -> int:
    if args.job not in api.get(MANAGER_PATH, MANAGER, "Jobs"):
        raise ClientError(
            f"no job {args.job} (unknown, or finished long ago and forgotten)",
            exits.INVALID_INPUT,
        )
    api.call(args.job, JOB, "Cancel", changes=True)
    view = JobView(args.job, api.get_all(args.job, JOB))
    _, message = view.error
    print(f"job {view.id}: {view.state}" + (f": {message}" if message else ""))
    return exits.OK


def jobs(api: Nmstate, args: argparse.Namespace) -> int:
    paths = api.get(MANAGER_PATH, MANAGER, "Jobs")
    views = [JobView(path, api.get_all(path, JOB)) for path in paths]
    if args.json:
        print(json.dumps([job_dict(v) for v in views], indent=2))
        return exits.OK
    print(f"{'JOB':>5}  {'STATE':<15}  {'CREATED':<19}  {'SENDER':<10}  RESULT")
    for view in views:
        created = time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(int(view.props["CreatedTimestamp"]) / 1e6)
        )
        kind, message = view.error
        result = f"{kind}: {message}" if kind else view.props.get("Progress", "")
        print(
            f"{view.id:>5}  {view.state:<15}  {created:<19}  {view.props['Sender']:<10}  {result}"
        )
    return exits.OK


def job_dict(view: JobView) -> dict[str, Any]:
    kind, message = view.error
    return {
        "id": view.id,
        "path": view.path,
        "state": view.state,
        "progress": view.props.get("Progress", ""),
        "error": {"kind": kind, "message": message} if kind else None,
        "sender": view.props.get("Sender", ""),
        "created-us": int(view.props.get("CreatedTimestamp", 0)),
        "finished-us": int(view.props.get("FinishedTimestamp", 0)),
        "rollback-deadline-us": int(view.props.get("RollbackDeadline", 0)),
    }


def version(api: Nmstate, args: argparse.Namespace) -> int:
    """The daemon's version (main.run has printed the client's already)."""
    print(f"nmstated {api.get(MANAGER_PATH, MANAGER, 'Version')}")
    return exits.OK


def client_version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("nmstated")
    except PackageNotFoundError:
        return "unknown"

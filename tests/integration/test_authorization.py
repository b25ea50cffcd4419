"""Who may change the network: a real bus policy, a real polkitd, a real unprivileged caller.

The caller is the client run as user ``nobody`` (setpriv) on the sandbox bus,
whose policy is a distribution's default plus our dbus/org.nmstate.conf.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dbus_fast import Variant

from sandbox import Sandbox
from tests.bus import call as call_bus
from tests.helpers import EXAMPLES, VENV_BIN, Ctl, ipv4_addresses

STATIC = str(EXAMPLES / "eth1-static.yml")
PERMISSION_DENIED = 77
AS_NOBODY = ("setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups")
AS_DAEMON = ("setpriv", "--reuid", "daemon", "--regid", "daemon", "--clear-groups")

GRANT_NOBODY = """
polkit.addRule(function (action, subject) {
    if (action.id == "org.nmstate.apply" && subject.user == "nobody") {
        return polkit.Result.YES;
    }
});
"""


def run_as(
    user: tuple[str, ...], box: Sandbox, *cmd: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*user, *cmd],
        env={**box.env, "PYTHONDONTWRITEBYTECODE": "1"},
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def nmstatectl_as(
    user: tuple[str, ...], box: Sandbox, *args: str
) -> subprocess.CompletedProcess[str]:
    return run_as(user, box, str(VENV_BIN / "nmstatectl"), *args)


def busctl_as(
    user: tuple[str, ...], box: Sandbox, *args: str, interactive: bool = False
) -> subprocess.CompletedProcess[str]:
    """busctl, as tool authors would call nmstated."""
    return run_as(
        user,
        box,
        "busctl",
        f"--address={box.bus_address}",
        f"--allow-interactive-authorization={'yes' if interactive else 'no'}",
        *args,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def daemon_log(box: Sandbox) -> str:
    return box.log_path("nmstated").read_text()


# -- without polkit: only root may change anything --------------------------------------


def test_unprivileged_caller_may_show_but_not_apply(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    shown = nmstatectl_as(AS_NOBODY, box, "show", "eth1")
    assert shown.returncode == 0, shown.stderr
    assert "name: eth1" in shown.stdout

    refused = nmstatectl_as(AS_NOBODY, box, "apply", STATIC)

    assert refused.returncode == PERMISSION_DENIED, refused.stderr
    line = one_line(refused)
    assert "Apply needs root: polkit is not running" in line
    assert "uid 65534" in line
    assert ipv4_addresses(box, "eth1") == set()  # nothing changed
    assert "Apply refused for uid 65534" in daemon_log(box)


def test_root_may_apply_without_polkit(nmstatectl: Ctl) -> None:
    result = nmstatectl("apply", STATIC)
    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(nmstatectl.box, "eth1") == {"192.0.2.10/24"}


@pytest.mark.parametrize(
    "method",
    [
        ("/org/nmstate", "org.nmstate.Manager", "Apply", "sa{sv}", "{}", "0"),
        ("/org/nmstate", "org.nmstate.Manager", "ApplyAndWait", "sa{sv}", "{}", "0"),
        ("/org/nmstate", "org.nmstate.Manager", "Commit", "o", "/"),
        ("/org/nmstate", "org.nmstate.Manager", "Rollback", "o", "/"),
        ("/org/nmstate/job/1", "org.nmstate.Job", "Cancel"),
        ("/org/nmstate/job/1", "org.nmstate.Job", "Commit"),
        ("/org/nmstate/job/1", "org.nmstate.Job", "Rollback"),
    ],
    ids=lambda method: f"{method[1].rsplit('.', 1)[1]}.{method[2]}",
)
def test_every_changing_method_is_refused_to_an_unprivileged_caller(
    nmstatectl: Ctl, method: tuple[str, ...]
) -> None:
    box = nmstatectl.box
    # job 1 exists: a dry run, by root
    dry_run = {"dry-run": Variant("b", True)}
    made = call_bus(box.bus_address, "ApplyAndWait", "sa{sv}", [Path(STATIC).read_text(), dry_run])
    assert made.error is None and made.body == ["/org/nmstate/job/1"], made
    path, interface, member, *args = method

    result = busctl_as(AS_NOBODY, box, "call", "org.nmstate", path, interface, member, *args)

    assert result.returncode != 0
    assert f"{member} needs root: polkit is not running" in one_line(result)


def test_bus_policy_only_root_owns_the_name_and_nothing_else_reaches_it(daemon: Sandbox) -> None:
    own = run_as(
        AS_NOBODY,
        daemon,
        "dbus-send",
        "--system",
        "--print-reply",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.RequestName",
        "string:org.nmstate",
        "uint32:0",
    )
    assert own.returncode != 0
    assert "org.freedesktop.DBus.Error.AccessDenied" in own.stderr
    assert "not allowed to own the service" in own.stderr

    # Our interfaces are open to everyone ...
    props = busctl_as(
        AS_NOBODY, daemon, "get-property", "org.nmstate", "/org/nmstate",
        "org.nmstate.Manager", "Version",
    )  # fmt: skip
    assert props.returncode == 0, props.stderr
    # ... any other interface is denied by the bus before nmstated sees it,
    other = busctl_as(
        AS_NOBODY, daemon, "call", "org.nmstate", "/org/nmstate", "org.example.Other", "Do"
    )
    assert other.returncode != 0
    assert "Access denied" in other.stderr or "AccessDenied" in other.stderr, other.stderr
    # ... while root reaches nmstated, which answers that it has no such method.
    as_root = subprocess.run(
        ["busctl", f"--address={daemon.bus_address}", "call", "org.nmstate", "/org/nmstate",
         "org.example.Other", "Do"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert as_root.returncode != 0
    assert "Access denied" not in as_root.stderr, as_root.stderr


# -- with a real polkitd: its rules decide ----------------------------------------------------


@pytest.fixture
def polkit_grants_nobody(sandbox: Sandbox) -> Sandbox:
    sandbox.start_polkitd(GRANT_NOBODY)
    sandbox.start_nmstated()
    return sandbox


def test_a_polkit_rule_lets_the_unprivileged_caller_apply(polkit_grants_nobody: Sandbox) -> None:
    box = polkit_grants_nobody

    result = nmstatectl_as(AS_NOBODY, box, "apply", STATIC)

    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(box, "eth1") == {"192.0.2.10/24"}
    assert "Apply authorized by polkit for uid 65534" in daemon_log(box)


def test_polkit_authorizes_commit_and_rollback_too(polkit_grants_nobody: Sandbox) -> None:
    """Past authorization, the method itself answers (nothing is pending)."""
    box = polkit_grants_nobody
    for member in ("Commit", "Rollback"):
        result = busctl_as(
            AS_NOBODY, box, "call", "org.nmstate", "/org/nmstate", "org.nmstate.Manager",
            member, "o", "/",
        )  # fmt: skip
        assert result.returncode != 0
        assert "no job is awaiting commit" in one_line(result)


def test_a_user_polkit_does_not_grant_is_refused(polkit_grants_nobody: Sandbox) -> None:
    """The action's default is auth_admin_keep: without an agent that is a refusal."""
    box = polkit_grants_nobody

    result = nmstatectl_as(AS_DAEMON, box, "apply", STATIC)

    assert result.returncode == PERMISSION_DENIED, result.stderr
    assert "Apply needs authentication for polkit action 'org.nmstate.apply'" in one_line(result)
    assert ipv4_addresses(box, "eth1") == set()


def test_interactive_authorization_without_an_agent_is_refused_at_once(
    polkit_grants_nobody: Sandbox,
) -> None:
    """The caller allows a password prompt, but no agent runs: polkit cannot ask anyone."""
    box = polkit_grants_nobody
    result = busctl_as(
        AS_DAEMON, box, "call", "org.nmstate", "/org/nmstate", "org.nmstate.Manager",
        "Commit", "o", "/", interactive=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert one_line(result).endswith(
        "Commit needs authentication for polkit action 'org.nmstate.apply': "
        "no authentication agent answered, or as root"
    )

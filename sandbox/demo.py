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
    shown_apply = "nmstatectl apply docs/examples/eth1-static.yml"
    ok_apply = run(box, ctl, "apply", str(EXAMPLES / "eth1-static.yml"), shown=shown_apply) == 0
    run(box, ctl, "show", "eth1", shown="nmstatectl show eth1")
    show_eth1(box, "inside the sandbox namespace")

    step("2. apply a file naming a NIC that does not exist: refused before anything changes")
    refused = (
        run(
            box,
            ctl,
            "apply",
            str(EXAMPLES / "rollback-missing-nic.yml"),
            shown="nmstatectl apply docs/examples/rollback-missing-nic.yml",
        )
        != 0
    )
    show_eth1(box, "still only 192.0.2.10/24")
    unchanged_after_refusal = eth1_addresses(box) == {"192.0.2.10"}

    step("3. apply a file that fails half-way (the kernel refuses a veth): rolled back")
    failed = (
        run(
            box,
            ctl,
            "apply",
            str(EXAMPLES / "rollback-veth-peer-taken.yml"),
            shown="nmstatectl apply docs/examples/rollback-veth-peer-taken.yml",
        )
        != 0
    )
    show_eth1(box, "192.0.2.10/24 again")
    run(
        box,
        "nmcli",
        "-t",
        "-f",
        "NAME,DEVICE",
        "connection",
        "show",
        shown="nmcli -t -f NAME,DEVICE connection show   # no profile for eth9 or v0",
    )
    profiles = box.nmcli("-t", "-f", "NAME", "connection", "show").stdout.split()
    rolled_back = eth1_addresses(box) == {"192.0.2.10"} and not {"eth9", "v0"} & set(profiles)

    step("result")
    print(f"first apply succeeded: {ok_apply}")
    print(f"missing NIC refused, nothing changed: {refused and unchanged_after_refusal}")
    print(f"failed apply was rolled back: {failed and rolled_back}")
    return ok_apply and refused and unchanged_after_refusal and failed and rolled_back


def show_eth1(box: Sandbox, comment: str) -> None:
    run(
        box,
        "ip",
        "-n",
        box.netns,
        "-br",
        "addr",
        "show",
        "eth1",
        shown=f"ip -br addr show eth1   # {comment}",
    )


def eth1_addresses(box: Sandbox) -> set[str]:
    return {
        a["local"]
        for link in box.ip_json("addr", "show", "eth1")
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }


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

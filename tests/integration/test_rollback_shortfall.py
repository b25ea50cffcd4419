"""A rollback that cannot bring everything back says what differs, instead of
reporting a clean rollback: NetworkManager's checkpoint restores its own view
(the profile's MTU), not what was changed behind its back before the job."""

from __future__ import annotations

import json

from tests.helpers import Ctl

MTU_1310 = """\
interfaces:
- name: eth2
  type: ethernet
  state: up
  mtu: 1310
"""


def test_a_rollback_that_leaves_a_difference_says_so(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    # eth2's profile says 1300; then its MTU is set behind NetworkManager's back.
    up = nmstatectl("apply", "-", stdin=MTU_1310.replace("1310", "1300"))
    assert up.returncode == 0, up.stderr
    box.ip("link", "set", "eth2", "mtu", "1280")
    held = nmstatectl("apply", "--no-commit", "-", stdin=MTU_1310)
    assert held.returncode == 0, held.stderr

    result = nmstatectl("rollback")

    assert result.returncode != 0, result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert "not everything is as before" in line and "mtu" in line, line
    jobs = json.loads(nmstatectl("jobs", "--json").stdout)
    (job,) = [j for j in jobs if j["state"] == "rolled-back"]
    assert "mtu" in job["error"]["message"], job

"""The loopback interface can be neither removed nor taken down: refused before
anything is touched, in one line, and lo stays up."""

from __future__ import annotations

import pytest

from tests.helpers import Ctl


@pytest.mark.parametrize(("state", "said"), [("down", "taken down"), ("absent", "removed")])
def test_loopback_stays_up(nmstatectl: Ctl, state: str, said: str) -> None:
    result = nmstatectl("apply", "-", stdin=f"interfaces:\n- name: lo\n  state: {state}\n")
    assert result.returncode == 65, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"lo cannot be {said}" in line and "nothing was changed" in line, line
    (lo,) = nmstatectl.box.ip_json("link", "show", "lo")
    assert "UP" in lo["flags"]

"""Apply with dry-run: the diff is printed, nothing changes."""

from __future__ import annotations

from tests.helpers import EXAMPLES, Ctl, ipv4_addresses, profiles

STATIC = str(EXAMPLES / "eth1-static.yml")


def test_dry_run_prints_the_diff_and_changes_nothing(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    before = profiles(box)
    result = nmstatectl("apply", "--dry-run", STATIC)
    assert result.returncode == 0, result.stderr
    assert "# would change:" in result.stdout
    assert "name: eth1" in result.stdout and "ip: 192.0.2.10" in result.stdout
    assert ipv4_addresses(box, "eth1") == set()
    assert profiles(box) == before


def test_dry_run_after_apply_says_nothing_would_change(nmstatectl: Ctl) -> None:
    assert nmstatectl("apply", STATIC).returncode == 0
    result = nmstatectl("apply", "--dry-run", STATIC)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "# nothing would change"

"""One profile per interface, edited in place; in memory or on disk as asked."""

from __future__ import annotations

from sandbox import Sandbox
from tests.helpers import Ctl, ipv4_addresses

STATIC = """
interfaces:
- name: eth3
  type: ethernet
  ipv4:
    enabled: true
    address:
    - ip: 192.0.2.33
      prefix-length: 24
"""


def profiles_of(box: Sandbox, name: str) -> list[tuple[str, str]]:
    """(profile name, uuid) of every profile bound to interface *name*."""
    out = box.nmcli("-t", "-f", "NAME,UUID", "connection", "show").stdout
    found = []
    for line in out.splitlines():
        profile, uuid = line.rsplit(":", 1)
        bound = box.nmcli("-g", "connection.interface-name", "connection", "show", uuid).stdout
        if bound.strip() == name:
            found.append((profile, uuid))
    return found


def test_the_active_profile_is_edited_in_place_and_duplicates_go(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    box.nmcli(
        "connection", "add", "type", "ethernet", "ifname", "eth3", "con-name", "office",
        "ipv4.method", "manual", "ipv4.addresses", "192.0.2.99/24",
        "ipv4.dns-search", "example.org", "ethernet.wake-on-lan", "magic",
    )  # fmt: skip
    box.nmcli("connection", "add", "type", "ethernet", "ifname", "eth3", "con-name", "spare")
    box.nmcli("connection", "up", "office")
    ((_, office_uuid),) = [p for p in profiles_of(box, "eth3") if p[0] == "office"]

    result = nmstatectl("apply", "-", stdin=STATIC)
    assert result.returncode == 0, result.stderr

    assert profiles_of(box, "eth3") == [("office", office_uuid)]
    assert ipv4_addresses(box, "eth3") == {"192.0.2.33/24"}
    kept = box.nmcli(
        "-g", "ipv4.dns-search,802-3-ethernet.wake-on-lan", "connection", "show", "office"
    ).stdout.split()
    assert kept == ["example.org", "magic"]


def test_memory_only_leaves_no_file_and_disk_does(nmstatectl: Ctl) -> None:
    box = nmstatectl.box
    result = nmstatectl("apply", "--memory-only", "-", stdin=STATIC)
    assert result.returncode == 0, result.stderr
    assert ipv4_addresses(box, "eth3") == {"192.0.2.33/24"}
    assert not list(box.keyfile_dir.iterdir())
    on_disk = STATIC.replace("eth3", "eth4")
    result = nmstatectl("apply", "-", stdin=on_disk)
    assert result.returncode == 0, result.stderr
    files = [p.read_text() for p in box.keyfile_dir.iterdir()]
    assert len(files) == 1 and "interface-name=eth4" in files[0]

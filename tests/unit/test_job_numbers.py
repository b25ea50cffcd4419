"""Job numbers go on growing after a restart, without a write per job."""

from __future__ import annotations

from pathlib import Path

from nmstated.job_numbers import BLOCK, FILE_NAME, JobNumbers


def test_numbers_go_on_after_a_restart(tmp_path: Path) -> None:
    first = JobNumbers(tmp_path)
    assert [first.next() for _ in range(3)] == [1, 2, 3]
    again = JobNumbers(tmp_path)  # the daemon restarted
    assert again.next() > 3


def test_a_block_is_reserved_at_a_time(tmp_path: Path) -> None:
    numbers = JobNumbers(tmp_path)
    record = tmp_path / FILE_NAME
    numbers.next()
    written = record.stat().st_mtime_ns, record.read_text()
    for _ in range(BLOCK - 1):
        numbers.next()
    assert (record.stat().st_mtime_ns, record.read_text()) == written
    assert numbers.next() == BLOCK + 1
    assert int(record.read_text()) == 2 * BLOCK


def test_an_unreadable_record_starts_again_at_one(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("not a number\n")
    assert JobNumbers(tmp_path).next() == 1


def test_without_a_run_directory_numbers_start_at_one() -> None:
    numbers = JobNumbers(None)
    assert [numbers.next(), numbers.next()] == [1, 2]


def test_a_run_directory_that_cannot_be_written_only_warns(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    numbers = JobNumbers(blocker / "run")  # its parent is a file
    assert numbers.next() == 1

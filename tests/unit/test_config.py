"""nmstated.conf: values, defaults, and one clear line for every kind of bad file."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import pytest

from nmstated import config as config_module
from nmstated.config import SETTINGS, DaemonConfig, load_config, parse_config
from nmstated.daemon import main, read_config
from nmstated.errors import InvalidArgument

FULL = """\
# every key, with comments and blank lines between
[jobs]
rollback-timeout = 120
queue-length = 5

; a semicolon comment
history = 0

[signals]
coalesce-ms = 250

[logging]
level = debug
"""


def test_every_key_sets_its_field() -> None:
    assert parse_config(FULL, "x.conf") == DaemonConfig(
        rollback_timeout=120, queue_length=5, job_history=0, coalesce_window=0.25, log_level="debug"
    )


def test_every_field_has_a_key() -> None:
    assert {name for name, _ in SETTINGS.values()} == {f.name for f in fields(DaemonConfig)}


def test_missing_keys_keep_their_defaults() -> None:
    assert parse_config("[jobs]\nqueue-length=7\n", "x.conf") == DaemonConfig(queue_length=7)
    assert parse_config("", "x.conf") == DaemonConfig()


def test_the_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DaemonConfig().queue_length = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[jobs]\nqueue-length = lots\n",
            "config /etc/x.conf line 2: [jobs] queue-length = 'lots': "
            "expected a whole number from 1 to 10000",
        ),
        (
            "[jobs]\n\nrollback-timeout = 0\n",
            "config /etc/x.conf line 3: [jobs] rollback-timeout = '0': "
            "expected a whole number from 1 to 86400",
        ),
        (
            "[jobs]\nhistory = -1\n",
            "config /etc/x.conf line 2: [jobs] history = '-1': expected a whole number from 0 to",
        ),
        (
            "[signals]\ncoalesce-ms = 0.5\n",
            "config /etc/x.conf line 2: [signals] coalesce-ms = '0.5': expected a whole number",
        ),
        (
            "[logging]\nlevel = loud\n",
            "config /etc/x.conf line 2: [logging] level = 'loud': "
            "expected one of debug, info, warning, error",
        ),
        (
            "[jobs]\nqueue-size = 3\n",
            "config /etc/x.conf line 2: unknown key 'queue-size' in [jobs] "
            "(known: rollback-timeout, queue-length, history)",
        ),
        (
            "[job]\n",
            "config /etc/x.conf line 1: unknown section [job] (known: jobs, logging, signals)",
        ),
        (
            "history = 3\n",
            "config /etc/x.conf line 1: key 'history' comes before any [section]",
        ),
        (
            "[jobs]\nhistory 3\n",
            "config /etc/x.conf line 2: expected '[section]' or 'key = value', got 'history 3'",
        ),
        (
            "[jobs\n",
            "config /etc/x.conf line 1: expected '[section]' or 'key = value', got '[jobs'",
        ),
        (
            "[jobs]\nhistory = 3\nhistory = 4\n",
            "config /etc/x.conf line 3: [jobs] history is set again (first on line 2)",
        ),
    ],
)
def test_a_bad_file_names_file_line_key_and_value(text: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_config(text, "/etc/x.conf")
    assert info.value.message.startswith(expected)
    assert "\n" not in info.value.message


def test_the_default_file_may_be_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG_PATH", tmp_path / "absent.conf")
    assert load_config() == DaemonConfig()


def test_the_default_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nmstated.conf"
    path.write_text("[jobs]\nhistory = 9\n")
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG_PATH", path)
    assert load_config() == DaemonConfig(job_history=9)


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"config .*absent\.conf: no such file"):
        load_config(tmp_path / "absent.conf")


def test_a_file_that_is_not_text_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "binary.conf"
    path.write_bytes(b"\xff\xfe[jobs]")
    with pytest.raises(InvalidArgument, match=r"binary\.conf: cannot read it: not UTF-8 text"):
        load_config(path)


def test_a_bad_file_gives_the_defaults_and_its_problem(tmp_path: Path) -> None:
    path = tmp_path / "nmstated.conf"
    path.write_text("[jobs]\nqueue-length = 3\nhistory = many\n")
    config, problem = read_config(path)
    assert config == DaemonConfig()  # not even the good queue-length is used
    assert problem == (
        f"config {path} line 3: [jobs] history = 'many': expected a whole number from 0 to 100000"
    )


def test_the_daemon_logs_a_bad_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """main() reports the file before anything else and goes on with the defaults."""
    path = tmp_path / "nmstated.conf"
    path.write_text("[logging]\nlevel = chatty\n")
    started: list[DaemonConfig] = []

    async def run(self: object) -> int:
        started.append(self.config)  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr("nmstated.daemon.Daemon.run", run)
    monkeypatch.setattr("nmstated.daemon.setup_logging", lambda level: None)
    with caplog.at_level(logging.INFO):
        assert main(["--config", str(path)]) == 0
    assert started == [DaemonConfig()]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"config {path} line 2: [logging] level = 'chatty': expected one of debug, info, "
        "warning, error; using the built-in defaults"
    ]

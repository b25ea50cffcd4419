"""Secrets never reach a log line; the log goes to the journal only under systemd."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from pathlib import Path

import pytest
import yaml
from dbus_fast import Variant

from nmstated.logs import HIDDEN, SecretMasker, mask_secrets, setup_logging, stderr_is_journal

SECRETS = ("hunter2 is long", "wpa-psk-value", "-----BEGIN KEY-----", "cak0123")
STATE = {
    "interfaces": [
        {
            "name": "wlan0",
            "wifi": {"ssid": "home", "psk": SECRETS[1]},
            "802.1x": {"identity": "me", "private-key-password": SECRETS[0]},
            "wireguard": {"private-key": SECRETS[2]},
            "macsec": {"mka-cak": SECRETS[3], "mka-ckn": "visible"},
        }
    ]
}


@pytest.mark.parametrize(
    "render",
    [json.dumps, lambda s: json.dumps(s, indent=2), yaml.safe_dump, repr],
    ids=["json", "json-indented", "yaml", "repr"],
)
def test_secret_values_are_hidden_in_every_rendering(render: object) -> None:
    text = mask_secrets(render(STATE))  # type: ignore[operator]
    for secret in SECRETS:
        assert secret not in text
    assert text.count(HIDDEN) == 4
    # what is not secret stays readable
    assert "home" in text and "identity" in text and "visible" in text


def test_key_value_and_variant_forms() -> None:
    assert mask_secrets("psk=abc ssid=x") == f"psk={HIDDEN}"
    assert mask_secrets("password: 'a b'") == f"password: '{HIDDEN}'"
    # NetworkManager settings as logged: dbus-fast Variants, even with '>' in the value
    settings = {"psk": Variant("s", "a>b c"), "key-mgmt": Variant("s", "wpa-psk")}
    assert mask_secrets(repr(settings)) == (
        f"{{'psk': {HIDDEN}, 'key-mgmt': <dbus_fast.signature.Variant ('s', wpa-psk)>}}"
    )
    assert mask_secrets(repr({"psk": b"a b", "n": 1})) == f"{{'psk': '{HIDDEN}', 'n': 1}}"
    assert mask_secrets('"PassWord": "x\\"y", "n": 1') == f'"PassWord": "{HIDDEN}", "n": 1'
    assert mask_secrets("nothing secret here: 1") == "nothing secret here: 1"


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("nmstated.x", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_the_message_and_drops_raw_arguments() -> None:
    rec = record("applying %s", json.dumps(STATE))
    assert SecretMasker().filter(rec)
    assert rec.args is None  # the journal handler would send raw args as a field
    assert SECRETS[1] not in rec.getMessage() and HIDDEN in rec.getMessage()


def test_the_filter_masks_tracebacks() -> None:
    try:
        raise ValueError("bad settings {'psk': 'wpa-psk-value'}")
    except ValueError as err:
        rec = record("failed", exc=err)
    SecretMasker().filter(rec)
    assert rec.exc_info is None
    assert rec.exc_text is not None and "Traceback" in rec.exc_text
    assert SECRETS[1] not in rec.exc_text
    line = logging.Formatter().format(rec)
    assert "ValueError" in line and SECRETS[1] not in line


def test_a_handler_with_the_filter_never_writes_a_secret() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretMasker())
    logger = logging.getLogger("nmstated.test_logs")
    logger.addHandler(handler)
    try:
        logger.warning("desired %s, options %r", yaml.safe_dump(STATE), {"password": SECRETS[0]})
    finally:
        logger.removeHandler(handler)
    for secret in SECRETS:
        assert secret not in stream.getvalue()
    assert "wlan0" in stream.getvalue()


def test_stderr_is_the_journal_only_when_journal_stream_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (tmp_path / "stderr").open("w") as fake_stderr:
        monkeypatch.setattr(sys, "stderr", fake_stderr)
        info = os.fstat(fake_stderr.fileno())
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        assert not stderr_is_journal()
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino + 1}")
        assert not stderr_is_journal()  # e.g. a child whose stderr was redirected
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not stderr_is_journal()
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        assert stderr_is_journal()


def test_the_daemons_handler_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    try:
        setup_logging("info")
        logging.getLogger("nmstated.engine").info("job 1: desired %s", json.dumps(STATE))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    written = stream.getvalue()
    assert written.startswith("nmstated: INFO nmstated.engine: job 1: desired {")
    for secret in SECRETS:
        assert secret not in written

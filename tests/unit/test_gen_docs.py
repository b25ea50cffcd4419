"""The man page and bash completion are generated from the parser and up to date."""

from __future__ import annotations

import subprocess

import pytest

from client import gen_docs


@pytest.mark.parametrize("path", sorted(gen_docs.generated(), key=str))
def test_committed_file_is_what_the_generator_writes(path: gen_docs.Path) -> None:
    # Regenerate with: .venv/bin/python -m client.gen_docs
    assert path.read_text() == gen_docs.generated()[path]


def test_man_page_lists_every_command_option_and_exit_code() -> None:
    page = gen_docs.man_page(gen_docs.build_parser())
    for command in ("show", "apply", "set", "commit", "rollback", "cancel", "jobs", "version"):
        assert f".SS {command}\n" in page
    for flag in ("\\-\\-no\\-commit", "\\-\\-timeout SECONDS", "\\-\\-running\\-config"):
        assert flag in page
    for code in (0, 1, 64, 65, 66, 69, 77):
        assert f".TP\n.B {code}\n" in page


def complete(words: list[str]) -> list[str]:
    """COMPREPLY of the generated completion for a command line ending in words[-1]."""
    script = (
        f"source {gen_docs.COMPLETION}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_nmstatectl; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line]


def test_completion_offers_commands_then_their_options() -> None:
    assert complete(["nmstatectl", "ro"]) == ["rollback"]
    assert set(complete(["nmstatectl", ""])) >= {"show", "apply", "commit", "cancel", "jobs"}
    assert complete(["nmstatectl", "apply", "--no-c"]) == ["--no-commit"]
    assert complete(["nmstatectl", "show", "-"]) == [
        "--json",
        "-r",
        "--running-config",
        "-h",
        "--help",
    ]
    # A value is expected after --timeout: nothing is offered.
    assert complete(["nmstatectl", "apply", "--timeout", ""]) == []


def test_completion_offers_files_for_apply(tmp_path: gen_docs.Path) -> None:
    (tmp_path / "state.yml").write_text("interfaces: []\n")
    assert complete(["nmstatectl", "apply", f"{tmp_path}/st"]) == [f"{tmp_path}/state.yml"]

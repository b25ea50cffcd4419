"""Every example in docs/api.md runs against the sandbox, in order, and prints
what the page says it prints — so the API documentation cannot rot.

Rules of the page: a ```sh or ```python block is run (bash -e, or the
venv's Python) from the repository root; a ```text block right after it is
its expected output (stdout and stderr), "…" standing for anything, and the
command may then fail (error examples); without one it must succeed.  A
```sh background block keeps running (a monitor): it is started, the next
example runs, and its output must then show its ```text block.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import Sandbox
from tests.helpers import REPO, VENV_BIN

DOC = REPO / "docs" / "api.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
LIMIT = 120.0


@dataclass(frozen=True)
class Example:
    language: str
    code: str
    expected: str | None
    background: bool
    line: int


def examples(text: str) -> list[Example]:
    blocks = [
        (m.group(1), m.group(2).strip(), m.group(3), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]
    found = []
    for i, (language, info, code, line) in enumerate(blocks):
        if language not in ("sh", "python"):
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        expected = after[2] if after is not None and after[0] == "text" else None
        found.append(Example(language, code, expected, info == "background", line))
    return found


def pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in normalize(expected).split("…")]
    return re.compile(".*?".join(parts), re.DOTALL)


def normalize(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.strip().splitlines())


def command(example: Example, tmp_path: Path) -> list[str]:
    if example.language == "python":
        script = tmp_path / f"example_{example.line}.py"
        script.write_text(example.code)
        return [sys.executable, str(script)]
    return ["bash", "-e", "-o", "pipefail", "-c", example.code]


def environment(box: Sandbox) -> dict[str, str]:
    # nmstatectl from this checkout, as an installed one would be found.
    return {**box.env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(example: Example, box: Sandbox, tmp_path: Path) -> None:
    result = subprocess.run(
        command(example, tmp_path),
        cwd=REPO,
        env=environment(box),
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )
    output = result.stdout + result.stderr
    where = f"docs/api.md:{example.line}"
    if example.expected is None:
        assert result.returncode == 0, f"{where} failed:\n{output}"
        return
    assert pattern(example.expected).fullmatch(normalize(output)), (
        f"{where} printed:\n{output}\nexpected:\n{example.expected}"
    )


class Background:
    """A monitor example running while the next example acts."""

    def __init__(self, example: Example, box: Sandbox, tmp_path: Path) -> None:
        self.example = example
        # Line-buffered, so what it saw is readable before it is stopped.
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", *command(example, tmp_path)],
            cwd=REPO,
            env=environment(box),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.output = ""
        # gdbus monitor says who owns the name once its signal match is in place.
        self.read_until(lambda out: "is owned by" in out)

    def read_until(self, done: object) -> bool:
        assert self.proc.stdout is not None and callable(done)
        deadline = time.monotonic() + LIMIT
        while not done(self.output):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536).decode(errors="replace")
                if not chunk:
                    return bool(done(self.output))
                self.output += chunk
        return True

    def finish(self) -> None:
        expected = pattern(self.example.expected or "")
        try:
            seen = self.read_until(lambda out: expected.search(normalize(out)) is not None)
            assert seen, (
                f"docs/api.md:{self.example.line} printed:\n{self.output}\n"
                f"expected:\n{self.example.expected}"
            )
        finally:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()
            assert self.proc.stdout is not None
            self.proc.stdout.close()


def test_the_page_has_examples_of_every_kind() -> None:
    found = examples(DOC.read_text())
    assert {e.language for e in found} == {"sh", "python"}
    assert any(e.background for e in found)
    text = DOC.read_text()
    for member in ("Show", "Apply", "ApplyAndWait", "Commit", "Rollback", "Cancel", "Finished"):
        assert f"`{member}" in text


def test_every_example_runs_as_documented(daemon: Sandbox, tmp_path: Path) -> None:
    pending: Background | None = None
    for example in examples(DOC.read_text()):
        if example.background:
            pending = Background(example, daemon, tmp_path)
            continue
        run(example, daemon, tmp_path)
        if pending is not None:
            pending.finish()
            pending = None
    assert pending is None, "a background example with nothing after it"

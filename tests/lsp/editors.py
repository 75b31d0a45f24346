"""What the headless editor tests share (Neovim, Vim + ALE, Emacs): finding the editor or
skipping (failing under CI, which installs it), the environment that puts this virtualenv's
python3 first and keeps the user's configuration out, and what the server says on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
EDITORS_DOC = REPO / "docs" / "editors.md"


def missing_editor(problem: str, installs: str) -> NoReturn:
    """Skip a test whose editor is missing, except under CI (the CI environment variable set),
    where `.ci/run` installs `installs` and a missing editor is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"under CI: {problem}; .ci/run should have installed {installs}")
    pytest.skip(f"{problem}; CI runs this test")


def editor_env(xdg: Path, **extra: str) -> dict[str, str]:
    """The environment of an editor under test: `python3` is this virtualenv's (the set-ups
    start `python3 -m dbheal_lsp`), and its XDG folders lie under `xdg`."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for name in ("config", "data", "state", "cache"):
        env[f"XDG_{name.upper()}_HOME"] = str(xdg / name)
    env.update(extra)
    return env


def server_alone(project: Path) -> str:
    """What the server prints when started by hand with no client (stdin at end of file): the
    first thing to read when an editor saw nothing."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "dbheal_lsp"],
            cwd=project,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return "(still running after 20 s)"
    return (
        f"exit code {proc.returncode}\nstdout:\n{proc.stdout[-1500:]}\n"
        f"stderr:\n{proc.stderr[-3000:]}"
    )


def documented_block(language: str, file: Path) -> bool:
    """Return whether docs/editors.md shows `file`'s text, whole, as one `language` block."""
    return f"```{language}\n{file.read_text()}```" in EDITORS_DOC.read_text()


def run_editor(
    name: str,
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    out: Path,
    timeout: float,
    project: Path,
    logs: Callable[[str], str],
) -> dict[str, Any]:
    """Run an editor session whose driver writes `out`/result.json (or `out`/error.txt and
    exits non-zero); return what it saw, with the editor's stderr under "stderr". On failure,
    fail with the driver's error, `logs(editor stdout+stderr)` (where the server's words
    landed) and what the server says started alone."""
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        seen = f"{exc.stdout!r}\n{exc.stderr!r}"
        pytest.fail(f"{name} did not finish within {timeout:g} s\n\n{logs(seen)}")
    error = out / "error.txt"
    if proc.returncode != 0 or error.exists():
        pytest.fail(
            f"{name} exited with {proc.returncode}\n"
            f"error.txt:\n{error.read_text() if error.exists() else '(none)'}\n"
            f"{logs(proc.stdout[-2000:] + proc.stderr[-3000:])}\n"
            f"`python3 -m dbheal_lsp` on its own: {server_alone(project)}"
        )
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    result["stderr"] = proc.stderr
    return result

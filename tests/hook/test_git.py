"""git as the hook sees it: outside a repository, every hook command fails with one line."""

from __future__ import annotations

from pathlib import Path

from tests.hook.repo import (
    dbheal,
)


def test_outside_a_repository_hook_commands_fail_with_one_line(tmp_path: Path) -> None:
    for action in ("install", "uninstall", "run"):
        done = dbheal(tmp_path, "hook", action)
        assert done.returncode == 2
        assert done.stderr.startswith("dbheal: error: not inside a git working tree")
        assert len(done.stderr.strip().splitlines()) == 1

"""`dbheal hook run` as the command line says it (`cli/hook.py`): what it prints and its exit
status on a real staged commit; the hook's git side is tested in tests/hook/."""

from __future__ import annotations

from pathlib import Path

from tests.hook.repo import CLEAN, CRITICAL, dbheal, git_ok, write


def test_a_staged_critical_issue_blocks_with_the_issue_and_the_way_around(git_shop: Path) -> None:
    write(git_shop, "app/routes/report.py", CRITICAL)
    git_ok(git_shop, "add", "app/routes/report.py")
    done = dbheal(git_shop, "hook", "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISSING_COLUMN" in done.stdout
    assert (
        "dbheal: commit blocked: 1 issue at or above critical in 1 of 1 staged file." in done.stdout
    )
    assert "commit anyway with `git commit --no-verify`" in done.stdout


def test_a_clean_staged_file_passes_and_says_so(git_shop: Path) -> None:
    write(git_shop, "app/routes/report.py", CLEAN)
    git_ok(git_shop, "add", "app/routes/report.py")
    done = dbheal(git_shop, "hook", "run")
    assert (done.returncode, done.stdout) == (0, "dbheal: 1 staged file checked, no issues.\n")


def test_nothing_python_staged_prints_nothing(git_shop: Path) -> None:
    write(git_shop, "notes.txt", "hello\n")
    git_ok(git_shop, "add", "notes.txt")
    done = dbheal(git_shop, "hook", "run")
    assert (done.returncode, done.stdout) == (0, "")

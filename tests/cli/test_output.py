"""What the command line prints (`cli/output.py`): paths as a terminal shows them, errors on one
line, colour only when wanted."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.cli.output import for_display, one_line, shown_path, use_color
from dbheal_lsp.model import CheckResult, FileNote, Issue, IssueType, Origin, Severity, Span


def test_a_path_inside_the_working_directory_is_shown_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown_path(tmp_path / "app" / "db.py") == "app/db.py"
    assert shown_path(tmp_path.parent / "other.py") == str(tmp_path.parent / "other.py")


def test_issues_notes_and_origins_are_shown_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    monkeypatch.chdir(root / "app")
    issue = Issue(
        IssueType.MISSING_TABLE,
        Severity.CRITICAL,
        "app/db.py",
        Span(1, 1, 1, 2),
        "no such table: t (created by migrations/001.sql:3)",
        origin=Origin("migrations/001.sql", 3),
    )
    result = CheckResult(issues=(issue,), notes=(FileNote("app/x.py", "skipped"),))
    shown = for_display(result, root)
    assert shown.issues[0].path == "db.py"
    assert shown.issues[0].origin == Origin("../migrations/001.sql", 3)
    assert shown.issues[0].message == "no such table: t (created by ../migrations/001.sql:3)"
    assert shown.notes[0].path == "x.py"


def test_an_error_is_one_line_and_names_its_file() -> None:
    assert one_line(ValueError("bad\n  value")) == "bad value"
    assert one_line(RuntimeError()) == "RuntimeError"
    assert one_line(FileNotFoundError(2, "No such file or directory", "app.db")) == (
        "[Errno 2] No such file or directory: 'app.db'"
    )
    assert one_line(PermissionError("cannot write")) == "cannot write"


def test_colour_follows_the_choice_then_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("always") and not use_color("never")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto")
    assert use_color("always")

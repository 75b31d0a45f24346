"""Checking a module block by block (`languages/python/blocks.py`): an unchanged function keeps its issues,
moved with it when lines above it change."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.project import load_project
from dbheal_lsp.languages.python.blocks import shifted
from dbheal_lsp.model import Issue, IssueType, Severity, Span

SOURCE = """import sqlite3

conn = sqlite3.connect("app.db")


def names():
    return conn.execute("SELECT nmae FROM users").fetchall()
"""


def test_shifted_moves_every_span_of_an_issue() -> None:
    issue = Issue(
        IssueType.MISSING_COLUMN,
        Severity.CRITICAL,
        "app.py",
        Span(7, 25, 7, 29),
        "no such column",
        statement_span=Span(7, 24, 7, 45),
        call_span=Span(7, 11, 7, 46),
    )
    moved = shifted(issue, 3)
    assert (moved.span, moved.statement_span, moved.call_span) == (
        Span(10, 25, 10, 29),
        Span(10, 24, 10, 45),
        Span(10, 11, 10, 46),
    )
    assert shifted(issue, 0) is issue


def test_an_unchanged_function_below_an_edit_keeps_its_issue_at_its_new_line(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    (tmp_path / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    project = load_project(tmp_path)
    first = project.check_source("app.py", SOURCE).issues
    edited = SOURCE.replace("import sqlite3\n", "import sqlite3\n\n# a comment\n# another\n", 1)
    second = project.check_source("app.py", edited).issues
    assert [(i.type, i.span.line) for i in first] == [(IssueType.MISSING_COLUMN, 7)]
    assert [(i.type, i.span.line) for i in second] == [(IssueType.MISSING_COLUMN, 10)]
    assert second[0].fingerprint == first[0].fingerprint

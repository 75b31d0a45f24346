"""The call being fixed (`dbheal_lsp.languages.python.codefix.call`): the edit cut to the minimum, the
re-check of each candidate, and positions when the call is cut out of its file."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.languages.python import codefix
from dbheal_lsp.languages.python.codefix import code_fixes
from dbheal_lsp.languages.python.codefix.call import Context
from dbheal_lsp.languages.python.codefix.placeholders import Preference
from dbheal_lsp.model import IssueType
from tests.languages.python.codefix.conftest import FIXTURES, PATH, fixed, issues_of


def test_the_edit_is_minimal(project: Project) -> None:
    source = (FIXTURES / "rename_column.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.MISSING_COLUMN)
    (fix,) = code_fixes(source, issue, project)
    (edit,) = fix.edits
    # nmae -> name: only the two letters that differ, at the line and column of the token.
    assert edit.new_text == "am"
    assert (edit.span.line, edit.span.column) == (issue.span.line, issue.span.column + 1)
    assert (edit.span.end_line, edit.span.end_column) == (issue.span.line, issue.span.column + 3)


# --- no fix: wrong edits are worse than none -----------------------------------------------


def test_a_fix_that_would_not_clear_the_issue_is_not_offered(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (FIXTURES / "parameterize_fstring_quoted.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    real = codefix._candidate

    def no_op(ctx: Context, preference: Preference) -> object:
        # A transformer gone wrong: it only adds a space, the injection stays.
        candidate = real(ctx, preference)
        assert candidate is not None
        return replace(candidate, new_snippet=ctx.snippet.replace("(f", "( f", 1))

    monkeypatch.setattr(codefix, "_candidate", no_op)
    assert code_fixes(source, issue, project) == ()
    # Without a project only the parse check runs: that is what the re-analysis adds.
    assert len(code_fixes(source, issue)) == 1


def test_the_re_analysis_refuses_a_fix_that_adds_an_issue(project: Project) -> None:
    source = (FIXTURES / "nofix_would_add_issue.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    assert code_fixes(source, issue, project) == ()
    (unchecked,) = code_fixes(source, issue)  # the edit itself is made, and parses
    after = fixed(source, (unchecked,))
    assert 'WHERE name = ?", (name,))' in after
    assert [i.type for i in project.check_source(PATH, after).issues] == [IssueType.SQL_SYNTAX]


def test_without_a_project_fixes_are_made_and_parse(project: Project) -> None:
    source = (FIXTURES / "parameterize_percent_tuple.before.py").read_text(encoding="utf-8")
    after = (FIXTURES / "parameterize_percent_tuple.after.py").read_text(encoding="utf-8")
    for issue in issues_of(project, source, IssueType.SQL_INJECTION):
        assert fixed(source, code_fixes(source, issue)) == after


def test_issues_without_call_spans_or_other_types_get_no_fix(project: Project) -> None:
    source = (FIXTURES / "parameterize_fstring_quoted.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    assert code_fixes(source, replace(issue, call_span=None), project) == ()
    assert code_fixes(source, replace(issue, type=IssueType.SELECT_STAR), project) == ()
    # A stale issue (the file changed under it) points at text that is not its call.
    assert code_fixes("\n\n\n" + source, issue, project) == ()


# --- positions --------------------------------------------------------------------------------


def test_non_ascii_before_the_call_counts_code_points(project: Project) -> None:
    source = (
        "# Café crème ☕\n"
        "def by_name(db, name):\n"
        "    label = '🍵 thé vert'; rows = db.execute(f\"SELECT id FROM users WHERE name = '{name}'\")\n"
        "    return label, rows\n"
    )
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    (fix,) = code_fixes(source, issue, project)
    assert fix.edits[0].span.column == source.splitlines()[2].index('f"') + 1
    assert fixed(source, (fix,)).splitlines()[2] == (
        "    label = '🍵 thé vert'; rows = db.execute(\"SELECT id FROM users WHERE name = ?\", "
        "(name,))"
    )


def test_crlf_files_keep_their_line_endings(project: Project) -> None:
    before = (FIXTURES / "parameterize_multiline.before.py").read_text(encoding="utf-8")
    after = (FIXTURES / "parameterize_multiline.after.py").read_text(encoding="utf-8")
    crlf = before.replace("\n", "\r\n")
    issues = issues_of(project, crlf, IssueType.SQL_INJECTION)
    assert issues
    assert fixed(crlf, code_fixes(crlf, issues[0], project)) == after.replace("\n", "\r\n")


def test_a_large_file_gets_the_same_edit_as_a_small_one(project: Project) -> None:
    call = "    return db.execute(f\"SELECT id FROM users WHERE name = '{name}'\").fetchall()\n"

    def file_of(lines: int) -> str:
        filler = ["# 🎉 filler line, with a café\n"] * (lines - 2)
        return "".join(["def by_name(db, name):\n", call, *filler])

    small, large = file_of(100), file_of(10_000)
    (small_issue,) = issues_of(project, small, IssueType.SQL_INJECTION)
    (large_issue,) = issues_of(project, large, IssueType.SQL_INJECTION)
    (small_fix,) = code_fixes(small, small_issue, project)
    (large_fix,) = code_fixes(large, large_issue, project)
    assert small_fix.edits == large_fix.edits
    assert small_fix.id == large_fix.id
    assert small_fix.source_hash != large_fix.source_hash
    assert fixed(large, (large_fix,)).splitlines()[1] == fixed(small, (small_fix,)).splitlines()[1]

    moved = "\n" * 9_000 + large  # the same call 9,000 lines further down
    (moved_issue,) = issues_of(project, moved, IssueType.SQL_INJECTION)
    (moved_fix,) = code_fixes(moved, moved_issue, project)
    (edit,) = moved_fix.edits
    assert edit.span.line == large_fix.edits[0].span.line + 9_000
    assert edit.new_text == large_fix.edits[0].new_text

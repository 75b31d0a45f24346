"""The code fixer (`dbheal_lsp.fixes.code`): each fix as an editor would apply it.

Most cases are fixture pairs in `fixtures/code/`: `<case>.before.py` is checked by a real
Project against a real SQLite file, the issue its first line names
(`# dbheal-fix: TYPE [style=...]`) is fixed, and the result must be `<case>.after.py` exactly.
A case without an `.after.py` must get no fix at all.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.fixes import code as code_module
from dbheal_lsp.fixes.code import apply_edits, code_fixes, unified_diff
from dbheal_lsp.model import CodeFix, Issue, IssueType, Span, TextEdit

FIXTURES = Path(__file__).parent / "fixtures" / "code"
CASES = sorted(p.name.removesuffix(".before.py") for p in FIXTURES.glob("*.before.py"))
PATH = "app/case.py"

SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new',
    total_cents INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_users_name ON users(name);
CREATE INDEX idx_orders_user_id ON orders(user_id);
CREATE INDEX idx_orders_status ON orders(status);
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose database is a real SQLite file made from SCHEMA."""
    root = tmp_path_factory.mktemp("project")
    conn = sqlite3.connect(root / "app.db")
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()
    return Project(load_config(root, {"database": str(root / "app.db"), "cache": False}))


def header(text: str) -> tuple[IssueType, dict[str, str]]:
    """Return the issue type and options named by a fixture's first line."""
    first = text.splitlines()[0]
    assert first.startswith("# dbheal-fix: "), first
    kind, *options = first.removeprefix("# dbheal-fix: ").split()
    return IssueType(kind), dict(o.split("=", 1) for o in options)


def issues_of(project: Project, source: str, kind: IssueType) -> list[Issue]:
    """Return the issues of type `kind` a real check of `source` reports."""
    return [i for i in project.check_source(PATH, source).issues if i.type is kind]


def fixed(source: str, fixes: tuple[CodeFix, ...]) -> str:
    """Return `source` with the one fix of `fixes` applied."""
    assert len(fixes) == 1, fixes
    return apply_edits(source, fixes[0].edits)


# --- the fixture pairs ---------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dbheal_lsp.fixes.code")
    before = (FIXTURES / f"{case}.before.py").read_text(encoding="utf-8")
    after_file = FIXTURES / f"{case}.after.py"
    kind, options = header(before)
    issues = issues_of(project, before, kind)
    assert issues, f"the check reports no {kind.value} in {case}"

    results = [code_fixes(before, issue, project, style=options.get("style")) for issue in issues]

    # No case, fixed or not, may end in the catch-all: "no fix" must be a decision.
    assert not caplog.records
    if not after_file.exists():
        assert results == [()] * len(issues)
        return
    after = after_file.read_text(encoding="utf-8")
    # Every issue of the statement gets the same fix (parameterize binds all slots at once).
    for fixes in results:
        assert fixed(before, fixes) == after
    assert len({fixes[0].id for fixes in results}) == 1
    fix = results[0][0]
    assert fix.path == PATH
    assert fix.source_hash == hashlib.blake2b(before.encode(), digest_size=16).hexdigest()
    assert len(fix.edits) == 1
    # The fix did what it says: the issue is gone from the fixed file.
    assert not [i for i in issues_of(project, after, kind) if i.message == issues[0].message]


def test_fixture_cases_cover_the_brief() -> None:
    assert {
        "remove_cast_fstring",
        "remove_cast_params",
        "parameterize_fstring_value",
        "parameterize_fstring_quoted",
        "parameterize_fstring_two_values",
        "parameterize_fstring_existing_params",
        "parameterize_percent_tuple",
        "parameterize_percent_dict",
        "parameterize_format_positional",
        "parameterize_format_keyword",
        "parameterize_concat_quotes",
        "parameterize_psycopg",
        "parameterize_asyncpg",
        "parameterize_multiline",
        "parameterize_comment_in_call",
        "rename_column",
        "rename_table",
        "nofix_identifier_slot",
        "nofix_sql_in_variable",
    } <= set(CASES)


# --- ids, titles and kinds -----------------------------------------------------------------


def test_kinds_ids_and_titles(project: Project) -> None:
    cast = (FIXTURES / "remove_cast_params.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, cast, IssueType.TYPE_MISMATCH)
    (fix,) = code_fixes(cast, issue, project)
    assert fix.kind == "remove_cast"
    assert fix.id == f"remove_cast:{issue.fingerprint}"
    assert fix.title == "Remove the int() cast (sessions.user_id is TEXT)"
    assert fix.issue_fingerprint == issue.fingerprint

    inject = (FIXTURES / "parameterize_fstring_two_values.before.py").read_text(encoding="utf-8")
    issues = issues_of(project, inject, IssueType.SQL_INJECTION)
    assert len(issues) == 2
    first, second = (code_fixes(inject, i, project)[0] for i in issues)
    span = issues[0].statement_span
    assert span is not None
    assert (
        first.id
        == second.id
        == (f"parameterize:{span.line}:{span.column}-{span.end_line}:{span.end_column}")
    )
    assert first.kind == "parameterize"
    assert first.title == "Pass user.email, user.id as bound parameters"
    assert first.edits == second.edits

    inside = (FIXTURES / "remove_cast_fstring.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, inside, IssueType.TYPE_MISMATCH)
    (fix,) = code_fixes(inside, issue, project)
    assert (fix.kind, fix.id) == ("remove_cast", f"remove_cast:{issue.fingerprint}")
    assert fix.title == (
        "Remove the int() cast and pass user_id as a bound parameter (sessions.user_id is TEXT)"
    )

    rename = (FIXTURES / "rename_table.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, rename, IssueType.MISSING_TABLE)
    (fix,) = code_fixes(rename, issue, project)
    assert (fix.kind, fix.title) == ("rename", "Change table 'oders' to 'orders'")


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
    real = code_module._candidate

    def no_op(ctx: code_module._Context, preference: code_module._Preference) -> object:
        # A transformer gone wrong: it only adds a space, the injection stays.
        candidate = real(ctx, preference)
        assert candidate is not None
        return replace(candidate, new_snippet=ctx.snippet.replace("(f", "( f", 1))

    monkeypatch.setattr(code_module, "_candidate", no_op)
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


def test_an_unknown_style_is_an_error(project: Project) -> None:
    source = (FIXTURES / "parameterize_fstring_quoted.before.py").read_text(encoding="utf-8")
    (issue,) = issues_of(project, source, IssueType.SQL_INJECTION)
    with pytest.raises(ValueError, match="placeholder style"):
        code_fixes(source, issue, project, style="oracle")


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


def test_importing_the_module_does_not_import_libcst() -> None:
    code = "import sys, dbheal_lsp.fixes.code; print('libcst' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


# --- apply_edits and unified_diff --------------------------------------------------------------


def test_apply_edits_counts_code_points_after_an_emoji() -> None:
    source = "x = '🎉🎉'; y = 1\nz = 2\n"
    edit = TextEdit("f.py", Span(1, 15, 1, 16), "42")  # the "1" after two emoji
    assert apply_edits(source, [edit]) == "x = '🎉🎉'; y = 42\nz = 2\n"


def test_apply_edits_in_any_order_and_across_lines() -> None:
    source = "a = 1\r\nb = 2\r\nc = 3\r\n"
    edits = [
        TextEdit("f.py", Span(3, 5, 3, 6), "30"),
        TextEdit("f.py", Span(1, 5, 2, 6), "10\r\nb = 20"),
        TextEdit("f.py", Span(4, 1, 4, 1), "d = 4\r\n"),
    ]
    assert apply_edits(source, edits) == "a = 10\r\nb = 20\r\nc = 30\r\nd = 4\r\n"


def test_apply_edits_reads_lines_as_python_does() -> None:
    # A lone \r ends a line too (old Mac files); \f and \x1c do not, unlike str.splitlines.
    source = "a = 1\rb = 2\r\nc = '\x0c\x1c'; d = 4\n"
    edits = [TextEdit("f.py", Span(2, 5, 2, 6), "20"), TextEdit("f.py", Span(3, 15, 3, 16), "40")]
    assert apply_edits(source, edits) == "a = 1\rb = 20\r\nc = '\x0c\x1c'; d = 40\n"


def test_apply_edits_refuses_overlaps_and_positions_outside_the_text() -> None:
    source = "a = 1\nb = 2\n"
    with pytest.raises(ValueError, match="overlap"):
        apply_edits(
            source, [TextEdit("f", Span(1, 1, 1, 4), ""), TextEdit("f", Span(1, 3, 2, 1), "")]
        )
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(1, 9, 1, 9), "x")])
    with pytest.raises(ValueError):
        apply_edits(source, [TextEdit("f", Span(7, 1, 7, 1), "x")])


def test_unified_diff() -> None:
    diff = unified_diff("app/x.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n")
    assert diff.splitlines()[:2] == ["--- a/app/x.py", "+++ b/app/x.py"]
    assert "-b = 2\n+b = 3\n" in diff
    assert unified_diff("app/x.py", "same\n", "same\n") == ""
    assert "\\ No newline at end of file" in unified_diff("x.py", "a", "b")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("a =", "="),
        ("x IN (", "("),
        ("WHERE a BETWEEN 1 AND", "AND"),
        ("123abc", "abc"),
        ("x 123", None),
        ("tab.col", "col"),
        ("", None),
        # A long word is read once backwards (an end-anchored pattern retried every position).
        ("w" * 200_000, "w" * 200_000),
    ],
)
def test_last_token_before_a_slot(text: str, token: str | None) -> None:
    from dbheal_lsp.fixes.code import _last_token

    assert _last_token(text) == token


@pytest.mark.parametrize(
    ("sql", "is_value"),
    [
        ("SELECT a FROM t WHERE a BETWEEN 1 AND {}", True),
        ("SELECT a FROM t WHERE a = 1 AND {}", False),
        ("SELECT a FROM t WHERE a BETWEEN 1 AND 2 AND {}", False),
    ],
)
def test_between_and_is_a_value_position(sql: str, is_value: bool) -> None:
    from dbheal_lsp.fixes.code import _value_context

    start = sql.index("{}")
    assert _value_context(sql, start, start + 2) is is_value

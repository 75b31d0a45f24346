"""JS/TS code fixes end to end: every fixture pair fixed by a real check of a real database,
the fix checked before it is offered, and `dbheal fix --apply` on a folder of JS files."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.files import text_hash
from dbheal_lsp.languages.javascript.codefix import code_fixes
from dbheal_lsp.model import IssueType
from tests.languages.javascript.fix_cases import (
    CASES,
    case_texts,
    fix_of,
    fixed,
    issues_of,
    make_project,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str, project: Project, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dbheal_lsp.languages.javascript.codefix")
    path, before, after, kind = case_texts(case)
    issues = issues_of(project, path, before, kind)
    assert issues, f"the check reports no {kind.value} in {case}"

    results = [code_fixes(before, issue, project) for issue in issues]

    # No case, fixed or not, may end in the catch-all: "no fix" must be a decision.
    assert not caplog.records

    if after is None:
        assert results == [()] * len(issues)
        return
    for fixes in results:
        assert fixed(before, fixes) == after
    fix = results[0][0]
    assert fix.path == path and fix.source_hash == text_hash(before) and len(fix.edits) == 1
    # The fix did what it says: the issue is gone from the fixed file.
    assert not [i for i in issues_of(project, path, after, kind) if i.message == issues[0].message]


def test_the_fix_ids_say_the_kind(project: Project) -> None:
    cast_text = "db.all(`SELECT id FROM sessions WHERE user_id = ${parseInt(x)}`);\n"
    inject_text = "db.all(`SELECT id FROM users WHERE name = '${n}'`);\n"
    cast = fix_of(project, "a.js", cast_text, IssueType.TYPE_MISMATCH)
    inject = fix_of(project, "a.js", inject_text, IssueType.SQL_INJECTION)

    assert cast[0].kind == "remove_cast" and cast[0].id.startswith("remove_cast:")
    assert cast[0].title == (
        "Remove the parseInt() cast and pass x as a bound parameter (sessions.user_id is TEXT)"
    )
    assert inject[0].kind == "parameterize" and inject[0].id == "parameterize:1:8-1:50"
    assert inject[0].title == "Pass n as a bound parameter"


def test_without_a_project_only_the_parse_is_checked() -> None:
    from dbheal_lsp.model import Issue, Severity, Span

    text = "db.all('SELECT nmae FROM users');\n"
    issue = Issue(
        IssueType.MISSING_COLUMN,
        Severity.CRITICAL,
        "a.js",
        Span(1, 16, 1, 20),
        "no such column: users.nmae; did you mean 'name'?",
        table="users",
        column_name="nmae",
        suggestion="name",
        statement_span=Span(1, 8, 1, 32),
        call_span=Span(1, 1, 1, 33),
    )

    (fix,) = code_fixes(text, issue)

    assert fixed(text, (fix,)) == "db.all('SELECT name FROM users');\n"


def test_an_issue_of_another_version_of_the_file_gets_no_fix(project: Project) -> None:
    text = "db.all('SELECT nmae FROM users');\n"
    (issue,) = issues_of(project, "a.js", text, IssueType.MISSING_COLUMN)

    assert code_fixes("// moved\n\n\n" + text, issue, project) == ()
    assert code_fixes("", issue, project) == ()


def _dbheal(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dbheal_lsp", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dbheal_fix_rewrites_a_js_file_and_a_second_check_is_clean(tmp_path: Path) -> None:
    make_project(tmp_path)
    routes = tmp_path / "routes"
    routes.mkdir()
    auth = routes / "auth.js"
    auth.write_text(
        "const db = require('./db');\n"
        "exports.session = (userId) =>\n"
        "  db.query(`SELECT id FROM sessions WHERE user_id = ${parseInt(userId)}`);\n",
        encoding="utf-8",
    )

    run = _dbheal(tmp_path, "fix", "--database", "app.db", "--apply", "--yes", ".")

    assert run.returncode == 0, run.stderr
    assert auth.read_text(encoding="utf-8") == (
        "const db = require('./db');\n"
        "exports.session = (userId) =>\n"
        "  db.query(`SELECT id FROM sessions WHERE user_id = ?`, [userId]);\n"
    )
    check = _dbheal(tmp_path, "check", "--database", "app.db", "--format", "json", ".")
    assert [i["type"] for i in json.loads(check.stdout)] == []


def test_heal_changes_the_type_and_binds_the_value_the_cast_held(tmp_path: Path) -> None:
    make_project(tmp_path)
    auth = tmp_path / "auth.ts"
    auth.write_text(
        "// Sessions 🔑\n"
        "export const session = (db: Db, userId: string) =>\n"
        "  db.all(`SELECT id FROM sessions WHERE user_id = ${parseInt(userId)}`);\n",
        encoding="utf-8",
    )

    run = _dbheal(tmp_path, "heal", "--database", "app.db", "--yes", ".")

    assert run.returncode == 0, run.stdout + run.stderr
    assert auth.read_text(encoding="utf-8").endswith(
        "  db.all(`SELECT id FROM sessions WHERE user_id = ?`, [userId]);\n"
    )
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        types = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(sessions)")}
    finally:
        conn.close()
    assert types["user_id"] == "INTEGER"

"""rules/type_mismatch.py: TYPE_MISMATCH, a value whose type the column's does not take: its
fixture (fixtures/type_mismatch.py), the fields an issue carries and how messages show values."""

from __future__ import annotations

from pathlib import Path

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.model import IssueType
from tests.analysis.test_upgrade_code import FIXTURES, check_fixture
from tests.rules.conftest import assert_rule_fixture


def test_fixture(tmp_path: Path) -> None:
    assert_rule_fixture("type_mismatch", tmp_path)


def test_issue_fields(project: Project) -> None:
    source = 'conn.execute(f"SELECT token FROM sessions WHERE user_id = {int(uid)}")\n'
    (issue,) = project.check_source("a.py", source).issues
    assert issue.type is IssueType.TYPE_MISMATCH
    assert (issue.table, issue.column_name) == ("sessions", "user_id")
    assert (issue.db_type, issue.code_type, issue.helper) == ("TEXT", "INTEGER", "int")
    assert issue.statement_span is not None and issue.statement_span.line == 1
    assert len(issue.fingerprint) == 16


def test_a_clean_up_comparison_shows_the_value_as_the_code_spells_it(tmp_path: Path) -> None:
    findings, _ = check_fixture(tmp_path, FIXTURES / "messages_type_cleanup.py")
    messages = sorted(f["message"] for f in findings if f["type"] == "TYPE_MISMATCH")
    assert messages == [
        'users.age is INTEGER in the database, but the code compares "x" (TEXT)',
        "users.age is INTEGER in the database, but the code compares 'ten' (TEXT)",
    ]

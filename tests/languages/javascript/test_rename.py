"""The rename fix of JS/TS: the misspelt name becomes the suggestion where it is written, a
name in a `const` too; not when the span is not the name as written."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.model import IssueType
from tests.languages.javascript.fix_cases import fix_of, fixed, make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


def test_a_name_in_a_const_is_renamed_where_it_is_written(project: Project) -> None:
    text = "const sql = 'SELECT id FROM userz';\ndb.all(sql);\n"

    fixes = fix_of(project, "a.ts", text, IssueType.MISSING_TABLE)

    assert fixed(text, fixes) == "const sql = 'SELECT id FROM users';\ndb.all(sql);\n"
    assert fixes[0].title == "Change table 'userz' to 'users'"


def test_a_column_after_non_ascii_text_in_a_tsx_file(project: Project) -> None:
    text = "const é = '🎉'; db.all(`SELECT emial FROM users`);\n"

    fixes = fix_of(project, "a.tsx", text, IssueType.MISSING_COLUMN)

    assert fixed(text, fixes) == "const é = '🎉'; db.all(`SELECT email FROM users`);\n"


def test_an_escaped_name_is_not_renamed(project: Project) -> None:
    text = "db.all('SELECT id FROM u\\u0073erz');\n"

    assert fix_of(project, "a.js", text, IssueType.MISSING_TABLE) == ()

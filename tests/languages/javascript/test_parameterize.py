"""The parameterize fix of JS/TS: every value from outside bound at once, constants kept as
written, and no fix when one value cannot be bound."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.model import IssueType
from tests.languages.javascript.fix_cases import fix_of, fixed, make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


def test_constants_stay_and_values_are_bound(project: Project) -> None:
    text = (
        "const TABLE = 'users';\n"
        "db.all(`SELECT id FROM ${TABLE} WHERE name = '${name}' AND id > ${min} LIMIT 10`);\n"
    )

    fixes = fix_of(project, "a.js", text, IssueType.SQL_INJECTION)

    assert fixed(text, fixes) == (
        "const TABLE = 'users';\n"
        "db.all(`SELECT id FROM ${TABLE} WHERE name = ? AND id > ? LIMIT 10`, [name, min]);\n"
    )
    assert fixes[0].title == "Pass name, min as bound parameters"


def test_one_value_that_cannot_be_bound_means_no_fix(project: Project) -> None:
    text = "db.all(`SELECT id FROM users WHERE name = '${name}' ORDER BY ${column}`);\n"

    assert fix_of(project, "a.js", text, IssueType.SQL_INJECTION) == ()

"""The remove_cast fix of JS/TS: in the SQL template the value is bound, among the values the
cast is dropped; a cast that is not plain gets no fix."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.model import IssueType
from tests.languages.javascript.fix_cases import fix_of, fixed, make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "db.all('SELECT id FROM orders WHERE user_id = ?', [u.toString()]);\n",
            "db.all('SELECT id FROM orders WHERE user_id = ?', [u]);\n",
        ),
        (
            "db.get('SELECT id FROM orders WHERE user_id = ?', String(u), (e) => e);\n",
            "db.get('SELECT id FROM orders WHERE user_id = ?', u, (e) => e);\n",
        ),
        (
            "const pg = require('pg');\n"
            "c.query(`SELECT id FROM sessions WHERE user_id = ${Number.parseInt(u)}`);\n",
            "const pg = require('pg');\nc.query(`SELECT id FROM sessions WHERE user_id = $1`, [u]);\n",
        ),
    ],
)
def test_the_cast_goes(project: Project, before: str, after: str) -> None:
    fixes = fix_of(project, "a.js", before, IssueType.TYPE_MISMATCH)

    assert fixed(before, fixes) == after
    assert fixes[0].kind == "remove_cast"


def test_a_cast_with_a_comment_inside_is_kept(project: Project) -> None:
    text = "db.all('SELECT id FROM sessions WHERE user_id = ?', [parseInt(/* id */ u)]);\n"

    assert fix_of(project, "a.js", text, IssueType.TYPE_MISMATCH) == ()


def test_a_cast_inside_a_longer_quoted_string_is_not_bound_alone(project: Project) -> None:
    text = "db.all(`SELECT id FROM sessions WHERE user_id = 'u${parseInt(u)}'`);\n"
    issues = project.check_source("a.js", text).issues

    # The cast is in text, not compared as a value: no TYPE_MISMATCH, and so no remove_cast.
    assert all(i.type is not IssueType.TYPE_MISMATCH for i in issues)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "db.execute(sql`SELECT id FROM sessions WHERE user_id = ${parseInt(u)}`);\n",
            "db.execute(sql`SELECT id FROM sessions WHERE user_id = ${u}`);\n",
        ),
        (
            "prisma.$queryRaw`SELECT id FROM sessions WHERE user_id = ${Number(u)}`;\n",
            "prisma.$queryRaw`SELECT id FROM sessions WHERE user_id = ${u}`;\n",
        ),
    ],
)
def test_a_tag_that_binds_its_values_keeps_the_value_bound(
    project: Project, before: str, after: str
) -> None:
    fixes = fix_of(project, "a.ts", before, IssueType.TYPE_MISMATCH)

    assert fixed(before, fixes) == after

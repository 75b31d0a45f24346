"""parameters.py: what a call certainly binds, for PARAMETER_MISMATCH (issue 11, pattern 14;
the rule's messages are tests/rules/test_parameter_mismatch.py's).

Each fixtures/accuracy/params_*.py file is Python code annotated with what must be found, as in
test_checker.py: `# expect: TYPE token[; TYPE token]` on the line of the token. A line without an
annotation must give no issue. The files are checked against a real SQLite database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import Issue, IssueType
from tests.analysis.test_checker import assert_fixture_file, database_with

FIXTURES = Path(__file__).parents[2] / "analysis" / "fixtures" / "accuracy"
CASES = sorted(FIXTURES.glob("params_*.py"))
SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER);
CREATE INDEX idx_users_name ON users (name);
CREATE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_age ON users (age);
"""


def _database(root: Path) -> Path:
    return database_with(root / "app.db", SCHEMA)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("params")
    return Project(load_config(root, {"database": str(_database(root))}))


def _mismatches(project: Project, source: str) -> list[Issue]:
    result = project.check_source("a.py", source)
    return [i for i in result.issues if i.type is IssueType.PARAMETER_MISMATCH]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    assert_fixture_file(project, case)


def test_each_case_has_a_fixture() -> None:
    names = {c.stem for c in CASES}
    assert {"params_positional", "params_named", "params_executemany", "params_unknown"} <= names


def test_each_variant_of_constant_fragments_is_judged(project: Project) -> None:
    source = (
        "def f(db, x, more):\n"
        '    cond = "AND email = ?" if more else ""\n'
        '    db.execute("SELECT id FROM users WHERE name = ? %s" % cond, (x,))\n'
    )
    (issue,) = _mismatches(project, source)
    assert "binds 1 value but the statement has 2 placeholders" in issue.message

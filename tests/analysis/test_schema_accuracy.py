"""Names and plans on real code (issue 11, patterns 6, 8, 9 and 12).

Each fixtures/accuracy/schema_*.py file is Python code annotated with what must be found, as in
test_checker.py: `# expect: TYPE token[; TYPE token]` on the line of the token; a line without an
annotation must give no issue. The files are checked against a real SQLite database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from tests.analysis.test_checker import assert_fixture_file, database_with

FIXTURES = Path(__file__).parent / "fixtures" / "accuracy"
CASES = sorted(FIXTURES.glob("schema_*.py"))
SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER, deleted INTEGER
);
CREATE INDEX idx_users_name ON users (name);
CREATE INDEX idx_users_age ON users (age);
CREATE TABLE post (id INTEGER PRIMARY KEY, author_id INTEGER, title TEXT, created TEXT);
CREATE INDEX idx_post_author ON post (author_id);
CREATE TABLE items (id INTEGER PRIMARY KEY, user_id INTEGER, day TEXT, n INTEGER);
CREATE VIRTUAL TABLE post_fts USING fts5(title, content = 'post', content_rowid = 'id');
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("schema-accuracy")
    return Project(load_config(root, {"database": str(database_with(root / "app.db", SCHEMA))}))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_file(project: Project, case: Path) -> None:
    assert_fixture_file(project, case)


def test_each_pattern_has_a_fixture() -> None:
    assert {c.stem for c in CASES} >= {
        "schema_ddl_in_function",
        "schema_index_replan",
        "schema_undecidable_names",
        "schema_partial_fragments",
    }

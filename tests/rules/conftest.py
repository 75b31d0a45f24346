"""What the rule tests share: a project whose database has the fixtures' schema
(tests/analysis/fixtures/checks/schema.sql), and the check of a rule's fixture file.

A fixture, fixtures/<rule>.py (the rule's anchor: `missing_table.py`), is annotated as in
tests/analysis/test_checker.py (`# expect: TYPE token`; a line without annotation gives no
issue) and checked with the migrations of fixtures/<rule>.migrations/ when there is such a folder.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from tests.analysis.test_checker import FIXTURES as CHECK_FIXTURES
from tests.analysis.test_checker import assert_fixture_file

FIXTURES = Path(__file__).parent / "fixtures"


def make_project(root: Path, migrations: Path | None = None) -> Project:
    """Return a project in `root` whose database has the fixtures' schema (and `migrations`)."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((CHECK_FIXTURES / "schema.sql").read_text(encoding="utf-8"))
    conn.close()
    settings: dict[str, object] = {"database": str(db), "identifier-helpers": ["quote_ident"]}
    if migrations is not None:
        shutil.copytree(migrations, root / "migrations")
        settings["migrations"] = str(root / "migrations")
    return Project(load_config(root, settings))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("project"))


def assert_rule_fixture(anchor: str, tmp_path: Path) -> None:
    """Check fixtures/<anchor>.py and assert it gives exactly its annotations, on one line each."""
    case = FIXTURES / f"{anchor}.py"
    migrations = case.with_suffix(".migrations")
    project = make_project(tmp_path / "project", migrations if migrations.is_dir() else None)
    result = project.check_source(case.name, case.read_text(encoding="utf-8"))
    assert all(issue.span.line == issue.span.end_line for issue in result.issues), result.issues
    assert_fixture_file(project, case)

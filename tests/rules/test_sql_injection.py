"""rules/sql_injection.py: SQL_INJECTION (a value built into the SQL text) and DYNAMIC_IDENTIFIER
(a name built into it), on their fixtures (fixtures/sql_injection.py, dynamic_identifier.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from tests.analysis.test_checker import database_with
from tests.analysis.test_injection_accuracy import SCHEMA
from tests.rules.conftest import assert_rule_fixture


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("accuracy")
    db = database_with(root / "app.db", SCHEMA)
    return Project(load_config(root, {"database": str(db), "safe-helpers": ["parse_limit"]}))


@pytest.mark.parametrize("anchor", ["sql_injection", "dynamic_identifier"])
def test_fixture(tmp_path: Path, anchor: str) -> None:
    assert_rule_fixture(anchor, tmp_path)


def test_an_identifier_slot_is_medium_not_critical(project: Project) -> None:
    source = 'def f(t, k):\n    db.execute("INSERT INTO [%s] (k, v) VALUES (?, ?)" % t, (k, 1))\n'
    (issue,) = project.check_source("a.py", source).issues
    assert (issue.type.value, issue.severity.value) == ("DYNAMIC_IDENTIFIER", "medium")

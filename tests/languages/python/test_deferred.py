"""Tests of the values a stored prepared query is run with later (languages/python/deferred.py):
what a user sees is TYPE_MISMATCH at the placeholder, naming the line that binds the value."""

from __future__ import annotations

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.model import IssueType
from tests.analysis.test_checker import database_with

SCHEMA = "CREATE TABLE history (url TEXT, atime TEXT);"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("deferred")
    database = database_with(root / "app.db", SCHEMA)
    return Project(load_config(root, {"database": str(database)}))


def _mismatches(project: Project, source: str) -> list[str]:
    result = project.check_source("a.py", source)
    return [i.message for i in result.issues if i.type is IssueType.TYPE_MISMATCH]


HISTORY = """
class History:
    def __init__(self, db):
        self._before = db.query("SELECT url FROM history WHERE atime <= :latest")

    def entries_before(self, latest):
        self._before.run(latest=latest)
        return list(self._before)


def page(history, start_time):
    start_time = int(start_time)
    return history.entries_before(start_time)
"""


def test_a_value_bound_by_a_later_run_is_checked_at_the_placeholder(project: Project) -> None:
    result = project.check_source("a.py", HISTORY)
    found = [i for i in result.issues if i.type is IssueType.TYPE_MISMATCH]
    assert [i.message for i in found] == [
        "history.atime is TEXT in the database, but the code compares latest (INTEGER) "
        "bound at line 7"
    ]
    assert found[0].span.line == 4  # the statement's line, where `:latest` is


def test_text_passed_by_the_caller_is_no_mismatch(project: Project) -> None:
    source = HISTORY.replace("int(start_time)", "str(start_time)")
    assert _mismatches(project, source) == []


def test_a_query_stored_twice_in_one_attribute_is_not_read(project: Project) -> None:
    source = HISTORY.replace(
        "    def entries_before",
        "    def reset(self, db):\n"
        '        self._before = db.query("SELECT url FROM history WHERE url = :latest")\n\n'
        "    def entries_before",
    )
    assert _mismatches(project, source) == []


def test_run_with_unknown_names_binds_nothing_known(project: Project) -> None:
    source = HISTORY.replace("self._before.run(latest=latest)", "self._before.run(**latest)")
    assert _mismatches(project, source) == []

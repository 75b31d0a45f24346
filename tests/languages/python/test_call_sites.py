"""Tests of a helper's SQL checked at each call of it (languages/python/call_sites.py): the
helper in one file, its callers in another, checked by the `dbheal` command on a real file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.config import load_config
from dbheal_lsp.languages.python.call_sites import with_helpers
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import project_constants
from dbheal_lsp.languages.python.pysource import parse_module
from tests.conftest import run_dbheal, write_app

TABLES = """class Table:
    def __init__(self, db, name):
        self._name = name
        self.db = db

    def _insert_query(self, values):
        columns = ", ".join(values)
        params = ", ".join(f":{key}" for key in values)
        return self.db.execute(f"INSERT INTO {self._name} ({columns}) VALUES ({params})")

    def insert(self, values):
        return self._insert_query(values)

    def count(self):
        return self.db.execute("SELECT count(*) FROM users")


class Users(Table):
    def __init__(self, db):
        super().__init__(db, "users")
"""

APP = """from tables import Users


def save(db, name):
    users = Users(db)
    users.insert({"name": name})
    users.insert({"nmae": name})
    users.count()
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = write_app(tmp_path / "app", APP)
    (root / "tables.py").write_text(TABLES, encoding="utf-8")
    with sqlite3.connect(root / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    return root


def test_the_finding_is_at_the_caller_and_names_the_helper(app: Path) -> None:
    done = run_dbheal(app, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    found = [line for line in done.stdout.splitlines() if "nmae" in line]
    assert len(found) == 1, done.stdout
    assert found[0].startswith("app.py:7:")
    assert "(SQL built by Table.insert in tables.py:11)" in found[0]
    assert "tables.py:" not in done.stdout.replace("in tables.py:11", "")


def test_the_statements_list_shows_the_call_site_and_the_template(app: Path) -> None:
    done = run_dbheal(app, "check", "--statements", "--format", "json")
    entries = json.loads(done.stdout)["statements"]
    at_calls = sorted(e["line"] for e in entries if e["path"] == "app.py")
    # The helper's literal count() query is its own statement, not made again at the call.
    assert at_calls == [6, 7]
    assert {e["built_by"] for e in entries if e["path"] == "app.py"} == {
        "Table.insert in tables.py:11"
    }
    assert any(e["path"] == "tables.py" and e["line"] == 9 for e in entries)
    text = run_dbheal(app, "check", "--statements").stdout
    assert "app.py:6: execute() checked (SQL built by Table.insert in tables.py:11)" in text


def test_the_methods_that_reach_a_database_call(tmp_path: Path) -> None:
    found = {"tables.py": file_constants(parse_module(TABLES, "tables.py"))}
    merged = with_helpers(project_constants(found.values()), found, load_config(tmp_path, {}))
    assert {"_insert_query", "insert"} <= merged.sql_methods
    assert "count" not in merged.sql_methods  # its SQL is written in full: checked where it is
    assert merged.class_files["Users"] == "tables.py"


def test_a_helper_in_the_same_file_is_named_by_its_line(tmp_path: Path) -> None:
    from dbheal_lsp.analysis.project import Project

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    project = Project(load_config(tmp_path, {"database": str(db)}))
    # (A caller passing a dict not written out keeps the helper's own statement partly known.)
    save = "\n\ndef save(db, row):\n    users = Users(db)\n    users.insert(row)\n"
    source = TABLES + save + "    users.insert({'nmae': 1})\n"
    issues = project.check_source("one.py", source).issues
    # (The helper's own statement reports its f-string names at line 9, as before.)
    (issue,) = [i for i in issues if i.type.value == "MISSING_COLUMN"]
    assert issue.span.line == source.count("\n")
    assert issue.message.endswith("(SQL built by Table.insert at line 11)")

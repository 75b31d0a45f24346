"""`dbheal check --statements`: every statement and how far it is checked, and the calls that are
given SQL but not read (a forgotten `extra-calls` must not look like a clean bill of health)."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

from dbheal_lsp.analysis.inventory import reads_as_sql, statement_entry, unread_calls
from dbheal_lsp.languages.language import CallNotRead
from dbheal_lsp.languages.python.calls import DEFAULT_CALLS
from dbheal_lsp.languages.python.extract import Extractor
from dbheal_lsp.languages.python.filecontext import ExtractOptions
from tests.conftest import run_dbheal

HELPERS = textwrap.dedent(
    """
    import sqlite3

    class Store:
        def __init__(self, path):
            self.db = sqlite3.connect(path)

        def run_sql(self, sql, args=()):
            return self.db.execute(sql, args)

    def names(store, table, hide):
        store.run_sql("SELECT nmae FROM users WHERE id = ?", (1,))
        store.run_sql("UPDATE users SET name = ? WHERE id = ?", ("a", 1))
        print("SELECT name FROM users")  # shown, not run
        store.db.execute(f"SELECT id FROM {table}")
        return store.db.execute("SELECT id, name FROM users")
    """
)


def _statements(source: str) -> tuple[ast.Module, tuple]:  # type: ignore[type-arg]
    tree = ast.parse(source)
    extractor = Extractor(ExtractOptions(calls=DEFAULT_CALLS))
    return tree, extractor.extract(source, tree)


@pytest.mark.parametrize(
    ("text", "is_sql"),
    [
        ("SELECT id FROM users", True),
        ("  (select a from t)", True),
        ("-- a comment\nUPDATE t SET a = 1", True),
        ("INSERT INTO t VALUES (?)", True),
        ("Select a file to open", False),
        ("delete the cache", False),
        ("", False),
    ],
)
def test_a_literal_reads_as_sql_only_with_two_sql_words(text: str, is_sql: bool) -> None:
    assert reads_as_sql(text) is is_sql


def test_each_statement_says_how_far_it_is_checked() -> None:
    _, statements = _statements(HELPERS)
    entries = [statement_entry(s, "app.py") for s in statements]
    # run_sql's own execute(sql, args) holds no SQL of its own: it is not a statement.
    assert [(e.line, e.call, e.status) for e in entries] == [
        (15, "execute", "partly checked"),
        (16, "execute", "checked"),
    ]
    assert entries[0].reason == "the names built from table are not known"


def test_calls_given_sql_but_not_read_are_counted_most_frequent_first() -> None:
    found = [
        ("app.py", [CallNotRead("q", 3), CallNotRead("run_sql", 12), CallNotRead("run_sql", 13)]),
        ("lib.py", [CallNotRead("run_sql", 2)]),
    ]
    assert [(u.name, u.count, u.first) for u in unread_calls(found)] == [
        ("run_sql", 3, "app.py:12"),
        ("q", 1, "app.py:3"),
    ]


def test_check_statements_lists_them_and_names_the_helper(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbheal]\n")
    (tmp_path / "app.py").write_text(HELPERS)
    (tmp_path / "broken.py").write_text("def f(:\n")
    done = run_dbheal(tmp_path, "check", "--statements", ".")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "app.py:15: execute() partly checked: the names built from table are not known" in lines
    assert "broken.py: not read (SyntaxError) (skipped)" in lines
    assert "2 statements found: 1 checked, 1 partly checked." in lines
    assert lines[-1].startswith("2 calls pass SQL-looking strings to names dbheal does not read: ")
    assert "run_sql (2, first at app.py:12)" in lines[-1]

    # Once configured, the helper's statements are found and checked.
    (tmp_path / "pyproject.toml").write_text('[tool.dbheal]\nextra-calls = ["run_sql"]\n')
    done = run_dbheal(tmp_path, "check", "--statements", "--format", "json", ".")
    data = json.loads(done.stdout)
    assert len(data["statements"]) == 4 and data["unread_calls"] == []
    checked = run_dbheal(tmp_path, "check", "--no-cache", ".")
    assert "4 statements checked" in checked.stdout


def test_statements_json_gives_the_lines_of_each_statements_sql_text(tmp_path: Path) -> None:
    # A finding is reported on a line of the SQL text; end_line lets a reader of the JSON map a
    # finding on any line of a multi-line statement back to that statement.
    (tmp_path / "pyproject.toml").write_text("[tool.dbheal]\n")
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            '''
            import sqlite3

            db = sqlite3.connect("app.db")
            db.execute("SELECT 1")
            db.execute(
                """
                SELECT id
                FROM users
                """
            )
            sql = (
                "SELECT name FROM users"
                " WHERE id = ?"
            )
            db.execute(sql, (1,))
            '''
        )
    )
    done = run_dbheal(tmp_path, "check", "--statements", "--format", "json", ".")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["statements"]
    spans = [(e["line"], e["sql_line"], e["end_line"]) for e in found]
    # The SQL text of the last one is bound to a name above its call: its lines are 13-14.
    assert spans == [(5, 5, 5), (7, 7, 10), (16, 13, 14)]
    # The text listing stays one line per statement, as before.
    text = run_dbheal(tmp_path, "check", "--statements", ".").stdout.splitlines()
    assert "app.py:7: execute() checked" in text


def test_a_piece_of_sql_text_is_partly_checked_and_says_its_text_is_checked() -> None:
    source = (
        "import sqlite3\n"
        "db = sqlite3.connect('app.db')\n"
        "def f(cond):\n"
        "    return db.execute('SELECT id FROM users WHERE age = 0 %s' % cond)\n"
    )
    _, statements = _statements(source)
    (entry,) = [statement_entry(s, "app.py") for s in statements]
    assert entry.status == "partly checked"
    assert entry.reason == "the SQL text cond is not known (the text around it is checked)"

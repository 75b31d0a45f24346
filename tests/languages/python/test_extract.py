"""Tests of finding the statements a module sends to a database (languages/python/extract.py)."""

from __future__ import annotations

import ast
import time

import pytest

from dbheal_lsp.config import CallShape
from dbheal_lsp.languages.python.extract import Extractor, OutOfTime
from dbheal_lsp.languages.python.filecontext import ExtractOptions

SOURCE = """\
import sqlite3

conn = sqlite3.connect("app.db")
conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")


class Store:
    def names(self):
        return conn.execute("SELECT name FROM users").fetchall()

    def upgrade(self):
        try:
            conn.execute("SELECT old_column FROM users")
        except sqlite3.OperationalError:
            pass


def find(name):
    print("SELECT name FROM users")  # shown, not run
    return conn.execute("SELECT id FROM users WHERE name = ?", (name,))
"""


def test_every_statement_in_source_order_with_its_function() -> None:
    found = Extractor().extract(SOURCE, ast.parse(SOURCE))
    assert [(s.span.line, s.function, s.literal_text) for s in found] == [
        (4, "", "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)"),
        (9, "Store.names", "SELECT name FROM users"),
        (13, "Store.upgrade", "SELECT old_column FROM users"),
        (20, "find", "SELECT id FROM users WHERE name = ?"),
    ]
    assert all(s.database == "app.db" for s in found)


def test_a_statement_in_a_try_that_handles_the_database_error_is_guarded() -> None:
    found = Extractor().extract(SOURCE, ast.parse(SOURCE))
    assert [s.guarded for s in found] == [False, False, True, False]


def test_only_the_top_level_statements_asked_for() -> None:
    tree = ast.parse(SOURCE)
    only = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    found = Extractor().extract(SOURCE, tree, only=only)
    assert [s.function for s in found] == ["find"]


def test_might_contain_sql_looks_for_the_call_names() -> None:
    extractor = Extractor()
    assert extractor.might_contain_sql("db.execute (sql)")
    assert not extractor.might_contain_sql("print('SELECT 1')")
    assert Extractor().extract("print('SELECT 1')\n", ast.parse("print('SELECT 1')\n")) == ()


def test_a_shapes_name_is_a_call_name() -> None:
    source = "run_sql(db, 'SELECT 1')\n"
    assert not Extractor().might_contain_sql(source)
    shaped = Extractor(ExtractOptions(shapes=(CallShape("run_sql", sql=1),)))
    assert shaped.might_contain_sql(source)
    (statement,) = shaped.extract(source, ast.parse(source))
    assert (statement.call, statement.literal_text) == ("run_sql", "SELECT 1")


def test_past_the_deadline_reading_stops_at_a_line() -> None:
    with pytest.raises(OutOfTime) as stopped:
        Extractor().extract(SOURCE, ast.parse(SOURCE), deadline=time.monotonic() - 1)
    assert stopped.value.line == 4  # the first statement that calls a database
    assert str(stopped.value) == "out of time at line 4"

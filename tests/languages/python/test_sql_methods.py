"""Tests of methods that write SQL text (languages/python/sql_methods.py): a statement that
interpolates `where, args = query.clause()` or `sort.order()` of a query class written in
another module, checked by the `dbheal` command on a real SQLite file."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

from dbheal_lsp.languages.python.origins import OriginReader
from dbheal_lsp.languages.python.sql_methods import method_texts, sql_text_methods
from tests.conftest import run_dbheal, write_app

QUERIES = '''class Query:
    def clause(self):
        """Return the WHERE text and its values."""


class Match(Query):
    def __init__(self, field, value):
        self.field = field
        self.value = value

    def clause(self):
        return f"{self.field} = ?", [self.value]


class Everything(Query):
    def clause(self):
        return "1", ()


class Both(Query):
    def __init__(self, parts):
        self.parts = parts

    def clause(self):
        texts = []
        values = []
        for part in self.parts:
            text, more = part.clause()
            if not text:
                return None, ()
            texts.append(f"({text})")
            values += more
        return " AND ".join(texts), values


class Sort:
    def order(self):
        return None


class By(Sort):
    def __init__(self, field, up):
        self.field = field
        self.up = up

    def order(self):
        direction = "ASC" if self.up else "DESC"
        return f"{self.field} {direction}"


class Form:
    def __init__(self, text):
        self.text = text

    def filter(self):
        return self.text

    def heading(self):
        return f"Results for {self.text}"
'''

APP = """import sys

from queries import Both, By, Form, Match


def search(db, field, value, sort_field):
    query = Both([Match(field, value)])
    sort = By(sort_field, True)
    where, args = query.clause()
    order = sort.order()
    rows = db.execute(f"SELECT id FROM users WHERE {where or 1} ORDER BY {order}", args)
    return rows.fetchall()


def unsafe(db):
    form = Form(sys.argv[1])
    where = form.filter()
    return db.execute(f"SELECT id FROM users WHERE {where}").fetchall()


def headed(db):
    form = Form(sys.argv[1])
    return db.execute(f"SELECT id FROM users WHERE name = '{form.heading()}'").fetchall()


def second(db, field, value):
    query = Match(field, value)
    values, where = query.clause()
    return db.execute(f"SELECT id FROM users WHERE {where}").fetchall()
"""


def _texts(source: str) -> dict[str, list[tuple[bool, bool, tuple[str, ...]]]]:
    tree = ast.parse(source)
    found: dict[str, list[tuple[bool, bool, tuple[str, ...]]]] = {}
    for name, written, marked, deps in method_texts(tree, OriginReader(module=tree)):
        found.setdefault(name, []).append((written, marked, deps))
    return found


def test_each_method_says_whether_it_writes_sql_text_and_from_what() -> None:
    texts = _texts(QUERIES)
    assert texts["clause"] == [(True, True, ()), (True, False, ()), (True, True, ("clause",))]
    assert texts["order"] == [(True, False, ()), (True, True, ())]
    # Handing back what the object holds is not writing text; a heading shows no SQL.
    assert texts["filter"] == [(False, False, ())]
    assert texts["heading"] == [(True, False, ())]


def test_a_name_writes_sql_only_when_every_definition_does() -> None:
    entries = [t for t in method_texts(*_tree_and_reader(QUERIES))]
    assert sql_text_methods(entries) == {"clause", "order"}
    # One definition of the name that hands back a parameter spoils the name.
    other = _tree_and_reader("class Raw:\n    def clause(self, text):\n        return text\n")
    assert sql_text_methods([*entries, *method_texts(*other)]) == {"order"}
    # Made of a method that is not known to write SQL: not SQL either.
    made = [("where", True, False, ("fetch",)), ("fetch", False, False, ())]
    assert sql_text_methods(made) == set()


def test_text_that_only_looks_like_sql_is_not_sql() -> None:
    source = """
class Page:
    def link(self):
        return f"{self.base}?{self.query}"

    def label(self):
        return "%s (%s)" % (self.name, self.count)

    def card(self):
        return "<b>{}</b>".format(self.name)


def where(field):
    return f"{field} = ?"
"""
    texts = _texts(source)
    # A URL's `?`, a `%s` conversion, a format field: no SQL in them.
    assert texts["link"] == texts["label"] == texts["card"] == [(True, False, ())]
    # A function outside a class is never a method's text, whatever it returns.
    assert texts["where"] == [(False, False, ())]


def _tree_and_reader(source: str) -> tuple[ast.Module, OriginReader]:
    tree = ast.parse(source)
    return tree, OriginReader(module=tree)


def test_sql_written_by_query_classes_is_no_injection_but_outside_text_is(tmp_path: Path) -> None:
    root = write_app(tmp_path / "app", APP)
    (root / "queries.py").write_text(QUERIES, encoding="utf-8")
    with sqlite3.connect(root / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    done = run_dbheal(root, "check", "--format", "json")
    issues = json.loads(done.stdout)
    found = sorted(
        (i["path"], i["line"], i["type"])
        for i in issues
        if i["type"] in ("SQL_INJECTION", "DYNAMIC_IDENTIFIER")
    )
    # search()'s WHERE and ORDER BY text is written by the query classes, whatever the user
    # asked for; Form.filter hands back the command line as it is, and a heading is no SQL.
    # The second item of what clause() returns is its values, not its text.
    assert found == [
        ("app.py", 18, "SQL_INJECTION"),
        ("app.py", 23, "SQL_INJECTION"),
        ("app.py", 29, "SQL_INJECTION"),
    ], issues


def test_a_value_interpolated_inside_a_methods_sql_is_no_written_sql(tmp_path: Path) -> None:
    # A method that quotes what the user typed into its text (`LIKE '%{self.pattern}%'`) does
    # not write SQL: the statement that runs it is open to injection, and says so.
    queries = """class TitleQuery:
    def __init__(self, pattern):
        self.pattern = pattern

    def clause(self):
        return f"title LIKE '%{self.pattern}%'"


class IdQuery:
    def clause(self):
        left, right = self.field, "?"
        return f"{left} = {right}"
"""
    app = """import sys

from queries import TitleQuery


def search(db, query):
    return db.execute(f"SELECT id FROM items WHERE {query.clause()}").fetchall()


def web(db):
    return search(db, TitleQuery(sys.argv[1]))
"""
    texts = _texts(queries)
    assert texts["clause"] == [(False, False, ()), (True, True, ())]
    root = write_app(tmp_path / "app", app)
    (root / "queries.py").write_text(queries, encoding="utf-8")
    with sqlite3.connect(root / "app.db") as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
    conn.close()
    issues = json.loads(run_dbheal(root, "check", "--format", "json").stdout)
    assert [(i["path"], i["line"], i["type"]) for i in issues] == [
        ("app.py", 7, "SQL_INJECTION")
    ], issues

"""Tests of which parameters and attributes hold only the program's own data (languages/python/program_data.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.constants import CallArguments, Signature
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.origins import PROGRAM
from dbheal_lsp.languages.python.program_data import dependency_holds_program_data, program_data
from dbheal_lsp.languages.python.project_constants import ProjectConstants, project_constants

SOURCE = """
import sys


def store(conn, table):
    conn.execute("SELECT * FROM " + table)


def search(conn, word):
    conn.execute("SELECT * FROM t WHERE a = '" + word + "'")


def relay(conn, table):
    store(conn, table)


def main(conn):
    relay(conn, "users")
    store(conn, "orders")
    search(conn, sys.argv[1])


@app.route("/")
def page(conn, table):
    conn.execute("SELECT * FROM " + table)


class Config:
    def __init__(self):
        self.table = "settings"
        self.path = input()
"""


def learned() -> tuple[frozenset[tuple[str, str]], frozenset[str], frozenset[str]]:
    found = file_constants(ast.parse(textwrap.dedent(SOURCE)))
    signatures: dict[str, list[Signature]] = {}
    for sig in found.signatures:
        signatures.setdefault(sig.name, []).append(sig)

    def reaching(sig: Signature) -> list[CallArguments]:
        return [c for c in found.calls if c.name == sig.name and sig.fits(c)]

    return program_data(signatures, reaching, [found], frozenset(), frozenset())


def test_a_parameter_every_caller_fills_with_program_data() -> None:
    parameters, _, _ = learned()
    # Passed on through relay() from a literal, and given a literal directly.
    assert ("store", "table") in parameters
    assert ("relay", "table") in parameters


def test_outside_text_and_entry_points_are_not_program_data() -> None:
    parameters, _, _ = learned()
    assert ("search", "word") not in parameters  # sys.argv
    assert ("page", "table") not in parameters  # a route: anyone may call it
    assert ("main", "conn") not in parameters  # nothing calls main


def test_attributes_assigned_only_program_data() -> None:
    _, attributes, assigned = learned()
    assert {"table", "path"} <= assigned
    assert "table" in attributes
    assert "path" not in attributes  # input()


def test_dependency_holds_program_data() -> None:
    parameters = frozenset({("store", "table")})
    attributes = frozenset({"table"})
    assigned = frozenset({"table", "path"})
    fields = frozenset({("Index", "name")})

    def holds(dep: str) -> bool:
        return dependency_holds_program_data(dep, parameters, attributes, assigned, fields)

    assert holds("store.table")
    assert not holds("search.word")
    assert holds("@table:!") and not holds("@path:")
    # An attribute the project never assigns: its fallback decides.
    assert holds("@other:") and not holds("@other:!")
    assert holds("@other:store.table") and not holds("@other:store.table,search.word")
    # A record's field is what its constructor's callers pass.
    assert not holds("@Index.name:")
    assert dependency_holds_program_data(
        "@Index.name:", parameters | {("Index", "name")}, attributes, assigned, fields
    )


def _project(source: str) -> ProjectConstants:
    return project_constants([file_constants(ast.parse(textwrap.dedent(source)))])


def test_project_program_parameters_follow_callers_and_recursion() -> None:
    constants = _project(
        """
        from flask import request

        TABLES = {"users": "users"}

        def walk(table, depth):
            if depth:
                walk(table, depth - 1)

        def start():
            walk(TABLES["users"], 3)

        def find(name):
            pass

        def a():
            find("x")

        def b():
            find(request.args["n"])

        @app.route("/")
        def route(q):
            pass

        def caller():
            route("fixed")
        """
    )
    assert constants.holds_program_data(frozenset({"walk.table"}))
    assert not constants.holds_program_data(frozenset({"find.name"}))  # one caller: a request
    assert not constants.holds_program_data(frozenset({"route.q"}))  # a framework calls it
    assert not constants.holds_program_data(None)
    assert constants.holds_program_data(PROGRAM)


def test_project_attributes_setters_and_methods_nothing_calls() -> None:
    constants = _project(
        """
        from flask import request

        TABLES = {"users": "users"}

        class Session:
            def __init__(self, tables):
                self.tables = tables
                self.sort = "name"
                self.filters = []

            def load(self):
                self.sort = request.args["sort"]
                self.filters.append(request.args["f"])

            def unused(self, where):
                pass

            @property
            def version(self):
                return 1

            @version.setter
            def version(self, value):
                pass

            def bump(self):
                self.version = self.version + 1

        session = Session(TABLES)
        """
    )
    assert constants.holds_program_data(frozenset({"@tables:"}))
    assert not constants.holds_program_data(frozenset({"@sort:"}))
    assert not constants.holds_program_data(frozenset({"@filters:"}))
    assert constants.holds_program_data(frozenset({"Session.version.value"}))
    # A method nothing calls may be called by a framework or getattr, with anything.
    assert not constants.holds_program_data(frozenset({"Session.unused.where"}))
    # An attribute the project never assigns is read as its receiver: here a parameter.
    assert not constants.holds_program_data(frozenset({"@missing:Session.unused.where"}))
    assert constants.holds_program_data(frozenset({"@missing:"}))


def test_callers_are_told_apart_by_receiver_and_class() -> None:
    constants = _project(
        """
        from flask import request
        from PyQt6.QtWidgets import QLineEdit

        class Table:
            def insert(self, values):
                pass

        class Users(Table):
            def add(self, name):
                self.insert({"name": name, "email": request.args["email"]})

        class Prompt(QLineEdit):
            def paste(self):
                self.insert(request.args["text"])

        class Other:
            def insert(self, values):
                pass

        def fill(other: Other):
            other.insert(request.args["x"])

        Users().add("ann")
        """
    )
    # Table.insert's one caller passes a dict with literal keys; Prompt's call is Qt's.
    assert constants.holds_program_data(frozenset({"Table.insert.values#items"}))
    assert not constants.holds_program_data(frozenset({"Table.insert.values"}))
    # Other.insert, a method of the same name, has its own caller.
    assert not constants.holds_program_data(frozenset({"Other.insert.values#items"}))


def test_calls_in_dead_methods_pass_nothing() -> None:
    constants = _project(
        """
        class Table:
            def __init__(self, name):
                self.name = name

        class Users(Table):
            def __init__(self):
                super().__init__("users")

        class Database:
            def table(self, name):
                return Table(name)

            def lonely(self, where):
                return Search(where)

        class Search:
            def __init__(self, where):
                self.where = where
        """
    )
    # Nothing names `table`: the call in it never runs, and Table's one live caller passes
    # a literal. Search is only made by dead code: dead too. `lonely` itself, which nothing
    # calls, is an entry point: anyone may call it with anything.
    assert constants.holds_program_data(frozenset({"Table.name"}))
    assert constants.holds_program_data(frozenset({"Search.where"}))
    assert not constants.holds_program_data(frozenset({"Database.lonely.where"}))

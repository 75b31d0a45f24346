"""Where values come from (analysis/origins.py), and which parameters and attributes the whole
project fills with its own data (analysis/program_data.py). The checks that use them are tested on
annotated files in fixtures/accuracy/injection_origins.py."""

from __future__ import annotations

import ast
import json
import textwrap

from dbheal_lsp.analysis.constants_json import constants_from_json, constants_to_json
from dbheal_lsp.analysis.file_constants import file_constants
from dbheal_lsp.analysis.origins import PROGRAM, Origin, OriginReader
from dbheal_lsp.analysis.project_constants import ProjectConstants, project_constants


def _origin(source: str, function: str, expression: str) -> Origin:
    """Return the origin of `expression` read inside `function` of module `source`."""
    tree = ast.parse(textwrap.dedent(source))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    target = ast.parse(expression, mode="eval").body
    return OriginReader(module=tree).origin_of(target, node)


def _project(source: str) -> ProjectConstants:
    return project_constants([file_constants(ast.parse(textwrap.dedent(source)))])


def test_outside_sources_are_outside() -> None:
    source = """
    import sys
    from flask import request

    def f(path):
        a = request.args["q"]
        b = sys.argv[1]
        c = input()
        with open(path) as fh:
            d = fh.read()
        e = [x for x in request.form]
    """
    for name in "abcde":
        assert _origin(source, "f", name) is None, name


def test_parameters_are_dependencies_and_constructors_are_named_by_class() -> None:
    source = """
    def f(table, *rest):
        name = table.strip()
        return name, rest
    """
    assert _origin(source, "f", "name") == frozenset({"f.table"})
    assert _origin(source, "f", "rest") is None  # *args: whatever any caller passes
    tree = ast.parse("class Store:\n    def __init__(self, kind):\n        pass\n")
    init = tree.body[0].body[0]  # type: ignore[attr-defined]
    reader = OriginReader(module=tree)
    assert reader.origin_of(ast.Name("kind"), init) == frozenset({"Store.kind"})


def test_lookups_rows_and_membership_give_the_collection_origin() -> None:
    source = """
    TABLES = {"users": "users"}
    FIELDS = ("name", "email")

    def f(key, db):
        m = TABLES[key]
        rows = db.execute("SELECT name FROM sqlite_master").fetchall()
        both = {"a", "b"} & set(key)
        if key in FIELDS:
            checked = [key]
    """
    assert _origin(source, "f", "m") == PROGRAM
    assert _origin(source, "f", "rows") == PROGRAM
    assert _origin(source, "f", "both") == PROGRAM
    assert _origin(source, "f", "checked") == PROGRAM
    # Looked up at the top of the function (a KeyError for any other key): one of TABLES' keys.
    assert _origin(source, "f", "key") == PROGRAM
    assert _origin(source, "f", "db") == frozenset({"f.db"})
    assert _origin(source, "f", "TABLES.get(key, 'x')") == PROGRAM


def test_returns_of_a_module_function_read_with_the_call_arguments() -> None:
    source = """
    MAP = {"a": "b"}

    def lookup(tag):
        for name, key in MAP.items():
            if name == tag:
                return key
        raise KeyError(tag)

    def echo(text):
        return text.strip()

    def f(q):
        a = lookup(q)
        b = echo(q)
    """
    assert _origin(source, "f", "a") == PROGRAM
    assert _origin(source, "f", "b") == frozenset({"f.q"})


def test_attributes_are_read_by_name_with_the_receiver_as_fallback() -> None:
    source = """
    def f(self, obj):
        a = obj.name
        b = self.name
        c = stranger.name
    """
    assert _origin(source, "f", "a") == frozenset({"@name:f.obj"})
    assert _origin(source, "f", "b") == frozenset({"@name:"})
    assert _origin(source, "f", "c") is None  # a name bound nowhere: not known


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


def test_origins_survive_the_cache() -> None:
    found = file_constants(
        ast.parse("T = {}\ndef f(a):\n    g(a, T, input(), U)\n    self.x = a\n    self.y[a] = 1\n")
    )
    assert constants_from_json(json.loads(json.dumps(constants_to_json(found)))) == found
    call = next(c for c in found.calls if c.name == "g")
    # U is bound nowhere in the module (an `import *`, a typo): not known.
    assert call.origins == (frozenset({"f.a"}), PROGRAM, None, None)
    assert ("x", frozenset({"f.a"})) in found.attribute_origins
    assert ("y", PROGRAM) in found.attribute_origins


def test_what_iterating_a_value_gives() -> None:
    source = """
    from flask import request

    def f(values):
        row = {"name": request.args["name"]}
        joined = ", ".join(values)
        keys = list(row)
        columns = [c for c in row]
        for key in row:
            last = key
        both = row.keys()
        keyed = {}
        keyed[request.args["k"]] = 1
        asked = sorted(keyed)
        listed = []
        listed.append(request.args["x"])
        each = [x for x in listed]
    """
    assert _origin(source, "f", "joined") == frozenset({"f.values#items"})
    for name in ("keys", "columns", "last", "both"):
        assert _origin(source, "f", name) == PROGRAM, name  # the dict's literal keys
    assert _origin(source, "f", "row") is None  # its values came from the request
    assert _origin(source, "f", "asked") is None  # a key the request chose
    assert _origin(source, "f", "each") is None  # an item appended from the request


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

"""Where values come from (languages/python/origins.py), and which parameters and attributes the whole
project fills with its own data (languages/python/program_data.py). The checks that use them are tested on
annotated files in fixtures/accuracy/injection_origins.py."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.origins import PROGRAM, Origin, OriginReader


def _origin(source: str, function: str, expression: str) -> Origin:
    """Return the origin of `expression` read inside `function` of module `source`."""
    tree = ast.parse(textwrap.dedent(source))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    target = ast.parse(expression, mode="eval").body
    return OriginReader(module=tree).origin_of(target, node)


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

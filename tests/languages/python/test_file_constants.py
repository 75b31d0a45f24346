"""Tests of what one file gives its names, attributes and parameters (languages/python/file_constants.py)."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.constants import PARAMETER_TAG
from dbheal_lsp.languages.python.file_constants import file_constants, returns_number
from dbheal_lsp.languages.python.project_constants import project_constants
from tests.languages.python.test_project_constants import TABLES


def test_functions_that_return_numbers_are_known_across_files() -> None:
    constants = project_constants([file_constants(ast.parse(TABLES))])
    assert {"to_int", "count"} <= constants.number_functions
    assert "label" not in constants.number_functions


STORE_FILE = """
TABLE = "users"


class Base:
    pass


class Store(Base):
    kind = "x"

    def __init__(self, name):
        self._name = name
        self.limit = 10

    def count(self) -> int:
        return 0

    def label(self):
        return str(self)


def use(s):
    s.save("a", key=TABLE)
    helper(*rows)
"""


def test_a_files_attributes_with_the_class_that_assigns_them() -> None:
    found = file_constants(ast.parse(STORE_FILE))
    assert found.attributes == (
        ("TABLE", "users"),
        ("kind", "x"),
        ("limit", 10),
        ("_name", (PARAMETER_TAG, "Store.name")),  # what Store's callers pass
    )
    assert ("Store", "kind", "x") in found.owned
    assert ("TABLE", "users") not in [(a, g) for _, a, g in found.owned]
    assert dict(found.bases) == {"Store": ("Base",), "Base": ()}


def test_a_files_signatures_and_what_its_calls_pass() -> None:
    found = file_constants(ast.parse(STORE_FILE))
    by_name = {s.name: s for s in found.signatures}
    # A class is called by its name with its constructor's parameters; `self` is left out.
    assert by_name["Store"].parameters == ("name",) and not by_name["Store"].method
    assert by_name["count"].method and by_name["count"].owner == "Store"
    save = next(c for c in found.calls if c.name == "save")
    # A module constant is passed as its literal.
    assert (save.positional, save.keywords, save.open) == (("a",), (("key", "users"),), False)
    helper = next(c for c in found.calls if c.name == "helper")
    assert helper.open  # *rows hides what it passes
    assert {"TABLE", "save", "helper", "Base"} <= found.references


def test_which_functions_return_numbers() -> None:
    found = file_constants(ast.parse(STORE_FILE))
    assert dict(found.returns) == {"use": False, "label": False, "count": True, "__init__": False}


@pytest.mark.parametrize(
    ("source", "number"),
    [
        ("def f() -> int:\n    return g()\n", True),
        ("def f() -> 'float':\n    return g()\n", True),
        ("def f(x):\n    if x:\n        return len(x)\n    return 0\n", True),
        ("def f(x):\n    return int(x)\n", True),
        ("def f(x):\n    if x:\n        return 1\n    return str(x)\n", False),
        ("def f(x):\n    return\n", False),
        ("def f(x):\n    pass\n", False),
    ],
)
def test_returns_number(source: str, number: bool) -> None:
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert returns_number(function) is number

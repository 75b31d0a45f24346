"""What a method call is made on (languages/python/receivers.py), and which methods it can reach."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.project_constants import project_constants
from dbheal_lsp.languages.python.receivers import FUNCTION, VALUE, Hierarchy, ReceiverReader

SOURCE = """
import os
from PyQt6.QtCore import QProcessEnvironment
from helpers import connect

class Table:
    def rows(self, extra: "Table", other: QProcessEnvironment):
        self.insert({})
        super().insert({})
        extra.insert({})
        other.insert("k", "v")

def make():
    return Table()

def run(unknown):
    parts = [p for p in unknown]
    parts.insert(0, "x")
    ", ".join(parts).strip()
    table = Table()
    table.insert({})
    made = make()
    made.insert({})
    env = QProcessEnvironment.systemEnvironment()
    env.insert("k", "v")
    os.path.join("a", "b")
    connect().insert({})
    unknown.insert({})
    insert({})

    def inner():
        table.insert({})
"""


def _codes(source: str) -> list[tuple[str, str]]:
    """Return (call text, receiver code) for every call in `source`, in order."""
    tree = ast.parse(textwrap.dedent(source))
    reader = ReceiverReader(tree)
    found: list[tuple[int, int, str, str]] = []

    def visit(node: ast.AST, in_class: str | None, function: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name, None)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, in_class, child)
            else:
                if isinstance(child, ast.Call):
                    code = reader.of_call(child, in_class, function)
                    found.append((child.lineno, child.col_offset, ast.unparse(child), code))
                visit(child, in_class, function)

    visit(tree, None, None)
    return [(text, code) for _, _, text, code in sorted(found)]


def test_receiver_codes() -> None:
    codes = dict(_codes(SOURCE))
    assert codes["self.insert({})"] == "self:Table"
    assert codes["super().insert({})"] == "self:Table"
    assert codes["extra.insert({})"] == "self:Table"  # annotated: a Table or a subclass
    assert codes["other.insert('k', 'v')"] == "self:QProcessEnvironment"
    assert codes["parts.insert(0, 'x')"] == VALUE  # a list, whatever is inserted into it
    assert codes["', '.join(parts).strip()"] == VALUE
    assert codes["table.insert({})"] == "new:Table"  # in run and in the closure inner
    assert codes["made.insert({})"] == "ret:make"
    assert codes["env.insert('k', 'v')"] == "ext:QProcessEnvironment"
    assert codes["os.path.join('a', 'b')"] == ""  # os.path is not os: not known
    assert codes["connect().insert({})"] == ""  # another library's function returns it
    assert codes["unknown.insert({})"] == ""
    assert codes["insert({})"] == FUNCTION
    assert codes["Table()"] == FUNCTION


def test_returned_codes() -> None:
    tree = ast.parse(textwrap.dedent(SOURCE))
    make = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "make")
    assert ReceiverReader(tree).of_returns(make, None) == ("new:Table",)


def test_which_methods_a_receiver_reaches() -> None:
    hierarchy = Hierarchy.of(
        [("Table", ()), ("Users", ("Table",)), ("Prompt", ("QLineEdit",)), ("Mixin", ())],
        ["make", "Factory"],
        [("make", ("new:Users",)), ("Factory", ("new:Table",)), ("loop", ("ret:loop",))],
    )
    # self in Table: a Table or a Users, so methods of both (and their bases).
    assert hierarchy.reaches(True, "Users", "self:Table")
    assert hierarchy.reaches(True, "Table", "self:Users")
    assert not hierarchy.reaches(True, "Table", "self:Prompt")  # Qt's insert, not Table's
    assert not hierarchy.reaches(True, "Table", "self:Mixin")
    assert hierarchy.reaches(True, "Table", "new:Users")
    assert not hierarchy.reaches(True, "Users", "new:Table")  # exactly a Table
    assert hierarchy.reaches(True, "Table", "ret:make")
    assert not hierarchy.reaches(True, "Prompt", "ret:make")
    assert hierarchy.reaches(True, "Prompt", "new:Factory")  # a function: may return anything
    assert hierarchy.reaches(True, "Prompt", "ret:loop")  # recursion: not known
    assert hierarchy.reaches(True, "Prompt", "ret:elsewhere")  # not the project's function
    assert not hierarchy.reaches(True, "Table", "ext:QProcessEnvironment")
    assert hierarchy.reaches(True, "Table", "ext:Table")  # `Table.create()`: not known
    assert not hierarchy.reaches(True, "Table", VALUE)
    assert not hierarchy.reaches(True, "Table", FUNCTION)
    assert hierarchy.reaches(False, "", FUNCTION)
    assert not hierarchy.reaches(False, "", "self:Table")  # `self.f()` is no module function
    assert hierarchy.reaches(True, "Prompt", "")
    assert hierarchy.family("Users") == {"Users", "Table"}


def test_generic_bases_are_bases() -> None:
    constants = project_constants(
        [
            file_constants(
                ast.parse(
                    "class Model(Generic[T]):\n    pass\n"
                    "class LibModel(dbcore.Model[Library]):\n    pass\n"
                    "class Item(LibModel):\n    _table = 'items'\n"
                )
            )
        ]
    )
    assert constants.hierarchy.family("Model") >= {"Model", "LibModel", "Item"}
    assert constants.attribute_values("_table", "Model") == {"items"}

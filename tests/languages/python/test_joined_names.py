"""Tests of joined names the code writes (languages/python/joined_names.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.filecontext import ExtractOptions, FileContext
from dbheal_lsp.languages.python.joined_names import joined_names, loop_built
from dbheal_lsp.languages.python.project_constants import project_constants
from tests.languages.python.test_filecontext import class_named, function_scope, read_file

SOURCE = """
COLUMNS = ("id", "name", "email")


class Model:
    _fields = {"id": 1, "name": 2}

    def store(self, fields=None):
        if fields is None:
            fields = self._fields
        assignments = []
        for key in fields:
            if key != "id" and key in self._fields and key in self._dirty:
                assignments.append(f"{key}=?")
        return ",".join(assignments)

    def from_a_tuple(self):
        parts = []
        for column in COLUMNS:
            if column not in ("id",):
                parts.append(column)
        return ", ".join(parts)

    def extended(self, more):
        parts = []
        for column in COLUMNS:
            parts.append(column)
        parts.extend(more)
        return ", ".join(parts)

    def unknown_loop(self, keys):
        parts = []
        for key in keys:
            parts.append(f"{key}=?")
        return ", ".join(parts)

    def other_values(self, value):
        parts = []
        for column in COLUMNS:
            parts.append(value)
        return ", ".join(parts)
"""


def context() -> FileContext:
    tree = ast.parse(textwrap.dedent(SOURCE))
    ctx = read_file(SOURCE, ExtractOptions(constants=project_constants([file_constants(tree)])))
    ctx.class_node = class_named(ctx, "Model")
    return ctx


def joined_in(ctx: FileContext, function: str) -> str | None:
    """The text of the join `function` returns, each item's text its variable's name plus
    what the item adds after it (enough to tell `key=?` from `key`)."""
    scope = function_scope(ctx, function)
    join = next(
        n
        for n in ast.walk(scope.node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "join"
    )
    assert isinstance(join.func, ast.Attribute) and isinstance(join.func.value, ast.Constant)

    def texts(item: ast.expr, variable: str, names: tuple[str, ...]) -> list[str]:
        suffix = "=?" if isinstance(item, ast.JoinedStr) else ""
        return [name + suffix for name in names]

    return joined_names(str(join.func.value.value), join.args[0], scope, ctx, texts)


def test_a_list_appended_in_a_loop_is_every_name_its_test_lets_through() -> None:
    ctx = context()
    # `key in self._fields`, less `key != "id"`.
    assert joined_in(ctx, "store") == "name=?"
    assert joined_in(ctx, "from_a_tuple") == "name, email"


def test_a_list_given_anything_else_is_not_read() -> None:
    ctx = context()
    assert joined_in(ctx, "extended") is None  # extended with what the caller passes
    assert joined_in(ctx, "unknown_loop") is None  # a loop over what the caller passes
    assert joined_in(ctx, "other_values") is None  # the item is not the loop's name


def test_what_each_append_gives() -> None:
    ctx = context()
    scope = function_scope(ctx, "store")
    name = ast.Name("assignments", ast.Load())
    (appended,) = loop_built(name, scope, ctx) or []
    assert appended.variable == "key" and appended.names == ("name",)
    assert ast.unparse(appended.item) == "f'{key}=?'"

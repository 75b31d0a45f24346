"""Tests of names written elsewhere in the code read as SQL text (languages/python/written.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.analysis.statement import TextPiece
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.filecontext import ExtractOptions, FileContext
from dbheal_lsp.languages.python.project_constants import project_constants
from dbheal_lsp.languages.python.written import (
    attribute_values,
    caller_literals,
    names_tuple,
    parameter_values,
    pinned,
    text_at,
)
from tests.languages.python.test_filecontext import class_named, function_scope, read_file

SOURCE = """
COLUMNS = ("id", "name")


class Store:
    TABLE = "users"

    def names(self, conn):
        conn.execute("SELECT * FROM " + self.TABLE)


class Podcasts(Store):
    TABLE = "podcasts"


def delete(conn, table, key):
    conn.execute("DELETE FROM " + table)


def use(conn, key):
    delete(conn, "users", key)
    delete(conn, "orders", "id")
    pick(conn, COLUMNS)


def pick(conn, columns):
    conn.execute("SELECT " + ", ".join(columns))
"""


def context() -> FileContext:
    tree = ast.parse(textwrap.dedent(SOURCE))
    constants = project_constants([file_constants(tree)])
    return read_file(SOURCE, ExtractOptions(constants=constants))


def node(ctx: FileContext, source: str, function: str) -> ast.expr:
    """Return the expression spelled `source` in `function`."""
    scope = function_scope(ctx, function)
    return next(
        n for n in ast.walk(scope.node) if isinstance(n, ast.expr) and ast.unparse(n) == source
    )


def test_an_attribute_holds_what_its_class_family_gives_it() -> None:
    ctx = context()
    table = node(ctx, "self.TABLE", "names")
    assert isinstance(table, ast.Attribute)
    assert attribute_values(table, ctx) == {"users", "podcasts"}
    ctx.class_node = class_named(ctx, "Store")
    # Several values of `self.TABLE`: the statement is worth reading once per class.
    assert attribute_values(table, ctx) == {"users", "podcasts"}
    assert "TABLE" in ctx.per_class
    ctx.as_class = "Podcasts"
    assert attribute_values(table, ctx) == {"podcasts"}


def test_a_parameter_holds_what_every_caller_passes() -> None:
    ctx = context()
    scope = function_scope(ctx, "delete")
    assert parameter_values(scope, "table", ctx) == {"users", "orders"}
    assert parameter_values(scope, "key", ctx) is None  # one caller passes a variable
    assert parameter_values(scope, "nothing", ctx) is None
    assert caller_literals(scope, "table", ctx) == {"users", "orders"}
    assert ctx.several  # several literals: read once per caller


def test_a_tuple_of_names_written_in_the_code() -> None:
    ctx = context()
    scope = function_scope(ctx, "pick")
    columns = node(ctx, "columns", "pick")
    assert names_tuple(columns, scope, ctx) == ("id", "name")


def test_pinned_text_points_at_where_it_is_used() -> None:
    ctx = context()
    used = node(ctx, "self.TABLE", "names")
    assert pinned(frozenset({"users", "podcasts"}), used, ctx) is None  # which one: not known
    assert pinned(frozenset({"1; DROP TABLE x"}), used, ctx) is None  # not a name
    (variant,) = pinned(frozenset({"users"}), used, ctx) or []
    (piece,) = variant
    assert isinstance(piece, TextPiece) and piece.text == "users"
    # The first character maps to the start of `self.TABLE`, the others to its end.
    line = textwrap.dedent(SOURCE).splitlines()[used.lineno - 1]
    start = line.index("self.TABLE") + 1
    assert piece.positions[0] == (used.lineno, start)
    assert piece.positions[1] == (used.lineno, start + len("self.TABLE") - 1)
    assert piece.positions[-1] == (used.lineno, start + len("self.TABLE"))


def test_text_at_starts_each_name_at_the_node() -> None:
    ctx = context()
    used = node(ctx, "self.TABLE", "names")
    piece = text_at("a b", used, ctx)
    assert piece.positions[0] == piece.positions[2]  # each word's first character: the start
    assert piece.positions[1] != piece.positions[0]

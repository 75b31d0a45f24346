"""Tests of reading a statement once per caller and once per class (languages/python/variants.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.analysis.statement import Piece, Slot, TextPiece, ValueInfo
from dbheal_lsp.languages.python.file_constants import file_constants
from dbheal_lsp.languages.python.filecontext import ExtractOptions, FileContext, Scope
from dbheal_lsp.languages.python.project_constants import project_constants
from dbheal_lsp.languages.python.variants import (
    numbered,
    per_argument_variants,
    per_caller_variants,
    per_class_variants,
)
from dbheal_lsp.model import Span
from tests.languages.python.test_filecontext import calls_in, class_named, function_scope, read_file

SOURCE = """
class Model:
    def save(self, conn):
        conn.execute("UPDATE " + self._table + " SET x = 1")


class Item(Model):
    _table = "items"


class Album(Model):
    _table = "albums"


def insert(conn, table, column):
    conn.execute("INSERT INTO " + table + " (" + column + ") VALUES (1)")


def use(conn):
    insert(conn, "podcast", "title")
    insert(conn, "episode", "url")


def fetch(conn, model_cls):
    return results(conn, model_cls)


def results(conn, model_cls):
    table = model_cls._table
    conn.execute("SELECT id FROM " + table)


def every_model(conn):
    fetch(conn, Item)
    fetch(conn, Album)
    fetch(conn, Unknown)
"""


def context() -> FileContext:
    tree = ast.parse(textwrap.dedent(SOURCE))
    return read_file(SOURCE, ExtractOptions(constants=project_constants([file_constants(tree)])))


def texts(variants: list[list[Piece]]) -> list[str]:
    return sorted("".join(p.text for p in v if isinstance(p, TextPiece)) for v in variants)


def execute_in(scope: Scope) -> ast.Call:
    return next(
        c for c in calls_in(scope) if isinstance(c.func, ast.Attribute) and c.func.attr == "execute"
    )


def test_one_variant_per_caller_never_one_callers_table_with_the_others_column() -> None:
    ctx = context()
    scope = function_scope(ctx, "insert")
    ctx.scope = scope
    call = execute_in(scope)
    found = per_caller_variants(call.args[0], call, scope, ctx)
    assert texts(found) == [
        "INSERT INTO episode (url) VALUES (1)",
        "INSERT INTO podcast (title) VALUES (1)",
    ]
    assert ctx.environment == {} and ctx.environment_of is None


def test_one_variant_per_class_the_callers_pass() -> None:
    ctx = context()
    scope = function_scope(ctx, "results")
    ctx.scope = scope
    call = execute_in(scope)
    # `fetch(conn, Item)` passes the class on to `results(conn, model_cls)`; `Unknown` is no
    # class of the project.
    ctx.class_arguments = {"model_cls": frozenset({"Item", "Album"})}
    found = per_argument_variants(call.args[0], call, scope, ctx)
    assert texts(found) == ["SELECT id FROM albums", "SELECT id FROM items"]
    assert ctx.as_argument is None


def test_one_variant_per_class_a_method_runs_on() -> None:
    ctx = context()
    model = class_named(ctx, "Model")
    ctx.class_node = model
    ctx.per_class = {"_table"}
    method = next(n for n in model.body if isinstance(n, ast.FunctionDef))
    scope = Scope(method, "Model.save")
    ctx.scope = scope
    call = execute_in(scope)
    found = per_class_variants(call.args[0], call, scope, ctx)
    assert texts(found) == ["UPDATE albums SET x = 1", "UPDATE items SET x = 1"]
    assert ctx.as_class is None
    ctx.class_node = None
    assert per_class_variants(call.args[0], call, scope, ctx) == []


def test_numbered_slots_count_from_zero_and_empty_text_is_dropped() -> None:
    span = Span(1, 1, 1, 2)
    value = ValueInfo("x", span)
    pieces: list[Piece] = [
        TextPiece("", ((1, 1),)),
        Slot(4, "concat", value),
        TextPiece(" AND ", tuple((1, i) for i in range(6))),
        Slot(7, "concat", value),
    ]
    out = numbered(pieces)
    assert [p.index for p in out if isinstance(p, Slot)] == [0, 1]
    assert [p.text for p in out if isinstance(p, TextPiece)] == [" AND "]
    only = TextPiece("", ((1, 1),))
    assert numbered([only]) == [only]

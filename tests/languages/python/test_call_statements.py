"""Tests of the statements one database call sends (languages/python/call_statements.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.statement import Statement, TextPiece
from dbheal_lsp.languages.python.call_statements import make_statement, sql_statements
from dbheal_lsp.languages.python.values import call_parameters
from dbheal_lsp.model import Span
from tests.languages.python.test_filecontext import calls_in, function_scope, read_file

SOURCE = """
def f(conn, flag, n):
    conn.execute("SELECT id FROM users WHERE id = ?" if flag else "SELECT 1", (n,))
    conn.execute("a" if flag else "a")
    conn.execute("hello world")
    conn.execute(text("SELECT name FROM users"), {"n": n})
    conn.execute(*args)
"""


def statements_of(index: int) -> list[Statement]:
    """Return the statements of the `index`-th `conn.execute` call of SOURCE."""
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    calls = [c for c in calls_in(scope) if isinstance(c.func, ast.Attribute)]
    call = calls[index]
    sql = call.args[0] if call.args else None
    return sql_statements(
        call, "execute", sql, lambda: call_parameters(call, "execute", ctx), scope, ctx
    )


def test_each_variant_that_reads_as_sql_is_a_statement() -> None:
    found = statements_of(0)
    assert [s.literal_text for s in found] == ["SELECT id FROM users WHERE id = ?", "SELECT 1"]
    first = found[0]
    assert (first.call, first.function) == ("execute", "f")
    line = SOURCE.splitlines()[2]
    # 1-based columns, end exclusive: the SQL argument and the called name.
    sql_start, sql_end = line.index('"SELECT id'), line.index(", (n,)")
    assert first.span == Span(3, sql_start + 1, 3, sql_end + 1)
    assert first.name_span == Span(3, line.index("execute") + 1, 3, line.index("(") + 1)
    assert first.parameters is not None and [p.value.source for p in first.parameters] == ["n"]


def test_text_that_does_not_read_as_sql_is_no_statement() -> None:
    assert statements_of(1) == []
    assert statements_of(2) == []


def test_text_inside_the_call_is_the_sql_and_the_outer_call_binds() -> None:
    (statement,) = statements_of(3)
    assert statement.literal_text == "SELECT name FROM users"
    assert statement.parameters is not None
    assert [p.name for p in statement.parameters] == ["n"]


def test_a_starred_argument_is_not_read() -> None:
    assert statements_of(4) == []


def test_make_statement_places_the_call_and_its_sql() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    call = next(c for c in calls_in(scope) if isinstance(c.func, ast.Attribute))
    piece = TextPiece("SELECT 1", tuple((3, 20 + i) for i in range(9)))
    statement = make_statement(call, "execute", call.args[0], (piece,), (), scope, ctx)
    assert statement.pieces == (piece,)
    line = SOURCE.splitlines()[2]
    assert statement.call_span == Span(3, line.index("conn") + 1, 3, len(line) + 1)
    assert statement.function == "f" and statement.parameters == ()

"""Tests of the statements helpers of their own shape carry (languages/python/shapes.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.statement import Statement, render
from dbheal_lsp.config import CallShape
from dbheal_lsp.languages.python.filecontext import ExtractOptions
from dbheal_lsp.languages.python.shapes import shaped_statements
from tests.languages.python.test_filecontext import calls_in, function_scope, read_file

SOURCE = """
def f(db, n, name):
    query(db, "SELECT id FROM users WHERE id = ?", (n,))
    migrate(db, ["CREATE TABLE a (x)", ["INSERT INTO a VALUES (?)", (1,)]])
    upsert(db, "users", {"name": name, "order": 1}, {"id": n})
    upsert(db, name, {"name": name})
    upsert(db, "main.users", {"name": name})
"""

SHAPES = {
    "query": CallShape("query", sql=1),
    "migrate": CallShape("migrate", statements=1),
    "upsert": CallShape("upsert", table=1, columns=(2, 3)),
}


def statements_of(index: int) -> list[Statement]:
    """Return the statements of the `index`-th helper call of SOURCE."""
    ctx = read_file(SOURCE, ExtractOptions(shapes=tuple(SHAPES.values())))
    scope = function_scope(ctx, "f")
    ctx.scope = scope
    call = calls_in(scope)[index]
    assert isinstance(call.func, ast.Name)
    name = call.func.id
    return shaped_statements(call, name, SHAPES[name], scope, ctx)


def test_the_sql_argument_and_its_parameters() -> None:
    (statement,) = statements_of(0)
    assert statement.literal_text == "SELECT id FROM users WHERE id = ?"
    assert statement.call == "query"
    assert statement.parameters is not None
    assert [p.value.source for p in statement.parameters] == ["n"]


def test_a_list_of_statements_and_sql_params_pairs() -> None:
    found = statements_of(1)
    assert [s.literal_text for s in found] == ["CREATE TABLE a (x)", "INSERT INTO a VALUES (?)"]
    assert found[0].parameters == ()
    assert found[1].parameters is not None
    assert [p.value.source for p in found[1].parameters] == ["1"]


def test_a_table_and_its_column_dicts_read_as_a_select_of_the_names() -> None:
    (statement,) = statements_of(2)
    rendered = render(statement)
    assert rendered.text == "SELECT `name`, `order`, `id` FROM `users`"
    # Each name points at its string literal in the code (1-based columns).
    line = SOURCE.splitlines()[4]
    at = rendered.text.index("users")
    span = rendered.span(at, at + len("users"))
    assert (span.line, span.column) == (5, line.index('"users"') + 2)


def test_a_table_not_written_as_a_plain_name_gives_nothing() -> None:
    assert statements_of(3) == []
    assert statements_of(4) == []

"""Tests of the values a name can hold where it is read (languages/python/reaching.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.languages.python.reaching import collect_assignments, reaching_name, reaching_values
from tests.languages.python.test_filecontext import function_scope, read_file

SOURCE = """
TABLE = "users"

def f(flag, n):
    sql = "SELECT id FROM " + TABLE
    if flag:
        sql += " WHERE id = 1"
    else:
        sql = "SELECT 1"
    run(sql)
    sql = "DELETE FROM t"
    for row in n:
        pass
    run(sql, TABLE, n, row)
"""


def texts(
    found: list[tuple[ast.expr | None, list[ast.expr]]],
) -> list[tuple[str | None, list[str]]]:
    return [
        (None if value is None else ast.unparse(value), [ast.unparse(a) for a in augments])
        for value, augments in found
    ]


def test_each_branch_gives_its_value_with_the_parts_added_since() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    found = reaching_values(scope, "sql", (10, 8), ctx)
    assert found is not None
    assert texts(found) == [
        ("'SELECT id FROM ' + TABLE", ["' WHERE id = 1'"]),
        ("'SELECT 1'", []),
    ]


def test_a_later_assignment_replaces_the_earlier_ones() -> None:
    ctx = read_file(SOURCE)
    found = reaching_values(function_scope(ctx, "f"), "sql", (14, 8), ctx)
    assert found is not None and texts(found) == [("'DELETE FROM t'", [])]


def test_a_name_the_function_does_not_bind_is_read_at_module_level() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    table = next(
        n
        for n in ast.walk(scope.node)
        if isinstance(n, ast.Name) and n.id == "TABLE" and n.lineno == 14
    )
    bound = reaching_name(table, scope, ctx)
    assert bound is not None
    where, found = bound
    assert where is ctx.module
    assert texts(found) == [("'users'", [])]


def test_a_parameter_holds_a_value_not_read_and_a_loop_variable_an_element() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    assert texts(reaching_values(scope, "n", (14, 20), ctx) or []) == [(None, [])]
    assert texts(reaching_values(scope, "row", (14, 23), ctx) or []) == [("*n", [])]
    assert reaching_values(scope, "nowhere", (14, 8), ctx) is None


def test_collect_assignments_lists_each_binding_in_order() -> None:
    ctx = read_file(SOURCE)
    scope = function_scope(ctx, "f")
    found = collect_assignments(scope.node, {})
    assert [b.at[0] for b in found["sql"]] == [5, 7, 9, 11]
    assert [None if b.value is None else ast.unparse(b.value) for b in found["sql"]] == [
        "'SELECT id FROM ' + TABLE",
        "' WHERE id = 1'",
        "'SELECT 1'",
        "'DELETE FROM t'",
    ]
    assert "flag" in found and "row" in found

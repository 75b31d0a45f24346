"""Tests of what the code says about a bound or interpolated value (languages/python/values.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.languages.python.filecontext import FileContext
from dbheal_lsp.languages.python.values import call_parameters, literal_parameters, value_info
from tests.languages.python.test_filecontext import calls_in, function_scope, read_file

SOURCE = """
LIMIT = 10

def f(conn, n, rows):
    conn.execute("SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?", (int(n), "x", 2.5, n))
    conn.execute("SELECT * FROM t WHERE k = :k", {"k": str(n), 3: n})
    conn.execute("SELECT * FROM t WHERE k = :k", dict(k=float(n)))
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, n), (2, n)])
    conn.executemany("INSERT INTO t VALUES (?)", rows)
    conn.execute("SELECT 1")
    conn.execute("SELECT * FROM t LIMIT ?", params=[LIMIT])
"""


def database_calls() -> tuple[FileContext, list[ast.Call]]:
    """Return the context of SOURCE and its `conn.` calls in order."""
    ctx = read_file(SOURCE)
    calls = calls_in(function_scope(ctx, "f"))
    return ctx, [c for c in calls if isinstance(c.func, ast.Attribute)]


def test_positional_parameters_with_their_types_and_helpers() -> None:
    ctx, calls = database_calls()
    call = calls[0]
    found = call_parameters(call, "execute", ctx)
    assert found is not None
    assert [
        (p.position, p.name, p.value.source, p.value.code_type, p.value.helper, p.value.constant)
        for p in found
    ] == [
        (0, None, "int(n)", "INTEGER", "int", False),
        (1, None, '"x"', "TEXT", None, True),
        (2, None, "2.5", "REAL", None, True),
        (3, None, "n", None, None, False),
    ]
    int_call = found[0].value
    assert int_call.numeric_cast and int_call.helper_span is not None
    assert int_call.helper_span.end_column - int_call.helper_span.column == len("int")


def test_named_parameters_of_a_dict_display_or_dict_call() -> None:
    ctx, calls = database_calls()
    by_dict = call_parameters(calls[1], "execute", ctx)
    assert by_dict is not None
    assert [(p.position, p.name, p.value.code_type) for p in by_dict] == [(None, "k", "TEXT")]
    by_call = call_parameters(calls[2], "execute", ctx)
    assert by_call is not None
    assert [(p.name, p.value.helper) for p in by_call] == [("k", "float")]


def test_executemany_binds_the_first_row_or_nothing_known() -> None:
    ctx, calls = database_calls()
    first_row = call_parameters(calls[3], "executemany", ctx)
    assert first_row is not None
    assert [(p.position, p.value.source) for p in first_row] == [(0, "1"), (1, "n")]
    assert call_parameters(calls[4], "executemany", ctx) is None
    assert call_parameters(calls[5], "execute", ctx) == ()


def test_parameters_passed_by_keyword_and_module_constants() -> None:
    ctx, calls = database_calls()
    found = call_parameters(calls[6], "execute", ctx)
    assert found is not None
    (limit,) = found
    assert (limit.value.source, limit.value.constant) == ("LIMIT", True)


def test_literal_parameters_of_something_else_are_not_known() -> None:
    ctx = read_file(SOURCE)
    assert literal_parameters(ast.parse("rows", mode="eval").body, ctx) is None
    assert literal_parameters(ast.parse("dict(rows)", mode="eval").body, ctx) is None


def test_value_info_is_read_once_per_node() -> None:
    ctx = read_file(SOURCE)
    node = ast.parse("int(n)", mode="eval").body
    assert value_info(node, ctx) is value_info(node, ctx)

"""Tests of the casts the code applies to a query's result columns (languages/python/results.py)."""

from __future__ import annotations

import ast
import textwrap

from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.analysis.statement import ResultCast
from dbheal_lsp.languages.python.results import function_rows

SOURCE = textwrap.dedent(
    """
    def f(db):
        version = db.execute("SELECT version FROM meta").fetchone()[0]
        major = int(version)
        for pages, fmt in db.execute("SELECT pages, format FROM books"):
            total = float(pages)
            label = int(fmt)
        size = db.execute("SELECT size FROM files").fetchone()[0]
        size = compute()
        kept = int(size)
    """
)


def queries() -> tuple[ast.FunctionDef, list[ast.Call]]:
    function = ast.parse(SOURCE).body[0]
    assert isinstance(function, ast.FunctionDef)
    calls = [
        n
        for n in ast.walk(function)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "execute"
    ]
    return function, sorted(calls, key=lambda c: c.lineno)


def test_a_cast_of_a_fetched_value_is_a_cast_of_its_column() -> None:
    function, (version, _, _) = queries()
    (cast,) = function_rows(function).result_casts(version, source_lines(SOURCE))
    assert (cast.column, cast.helper, cast.source) == (0, "int", "version")
    assert cast.span.line == 4


def test_casts_of_loop_targets_are_casts_of_each_column() -> None:
    function, (_, books, _) = queries()
    found = function_rows(function).result_casts(books, source_lines(SOURCE))
    assert [(c.column, c.helper, c.source) for c in found] == [
        (0, "float", "pages"),
        (1, "int", "fmt"),
    ]
    assert all(isinstance(c, ResultCast) for c in found)


def test_a_name_bound_again_before_its_cast_is_not_the_column() -> None:
    function, (_, _, files) = queries()
    assert function_rows(function).result_casts(files, source_lines(SOURCE)) == ()


def test_code_outside_a_function_has_no_rows() -> None:
    rows = function_rows(ast.parse("x = 1"))
    assert rows.bound == {} and rows.casts == {}

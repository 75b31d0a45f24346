"""Tests of which calls send SQL and how a call names its parts (languages/python/calls.py)."""

from __future__ import annotations

import ast

from dbheal_lsp.analysis.positions import source_lines
from dbheal_lsp.languages.python.calls import (
    DBAPI_CALLS,
    DEFAULT_CALLS,
    call_name_span,
    keyword_value,
)
from dbheal_lsp.model import Span


def call_of(source: str) -> ast.Call:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    return node.value


def test_the_default_calls_include_the_dbapi_ones() -> None:
    assert DBAPI_CALLS <= DEFAULT_CALLS
    assert {"read_sql", "fetchrow", "text"} <= DEFAULT_CALLS


def test_keyword_value_is_the_first_keyword_with_one_of_the_names() -> None:
    call = call_of("read_sql(con=c, sql='SELECT 1', params=p)")
    found = keyword_value(call, ("query", "sql", "params"))
    assert isinstance(found, ast.Constant) and found.value == "SELECT 1"
    assert keyword_value(call, ("parameters",)) is None


def test_the_name_a_call_calls_is_its_last_attribute() -> None:
    source = "self.db.execute('SELECT 1')\n"
    call = call_of(source)
    lines = source_lines(source)
    start = source.index("execute") + 1  # 1-based columns, end exclusive
    assert call_name_span(call.func, lines) == Span(1, start, 1, start + len("execute"))
    plain = call_of("run('SELECT 1')\n")
    assert call_name_span(plain.func, source_lines("run('SELECT 1')\n")) == Span(1, 1, 1, 4)


def test_a_receiver_over_several_lines_names_the_last_line() -> None:
    source = "(db\n    .cursor()\n    .execute)('SELECT 1')\n"
    call = call_of(source)
    assert call_name_span(call.func, source_lines(source)) == Span(3, 6, 3, 13)

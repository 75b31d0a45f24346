"""Tests of text the code escapes for an SQL string literal (languages/python/quoting.py)."""

from __future__ import annotations

import ast

import pytest

from dbheal_lsp.languages.python.quoting import escaped_in_quotes, escapes_quotes, formatted_parts


def expr(source: str) -> ast.expr:
    return ast.parse(source.strip(), mode="eval").body


@pytest.mark.parametrize(
    ("source", "escapes"),
    [
        ("""x.replace("'", "''")""", True),
        ("""x.replace("'", "`")""", True),
        ("""x.replace("'", "")""", True),
        ("""x.replace("'", "\\\\'")""", False),  # a backslash does not escape in SQL
        ("""x.replace('"', '""')""", False),
        ("""x.replace("'", y)""", False),
        ("""x.replace("'", "''", 1)""", False),
        ("""x.strip()""", False),
        ("""x""", False),
    ],
)
def test_escapes_quotes(source: str, escapes: bool) -> None:
    assert escapes_quotes(expr(source)) is escapes


def test_formatted_parts_of_an_fstring_and_a_format_call() -> None:
    fstring = expr('f"SELECT {a} FROM t"')
    parts = formatted_parts(fstring)
    assert [type(p).__name__ for p in parts] == ["Constant", "Name", "Constant"]
    call = expr('"SELECT {} FROM {t}".format(a, t=b)')
    assert [ast.unparse(p) for p in formatted_parts(call)] == ["'SELECT {} FROM {t}'", "a", "b"]


def test_an_escaped_value_inside_quotes_of_an_fstring_is_found() -> None:
    node = expr("""f\"\"\"SELECT * FROM t WHERE a = '{x.replace("'", "''")}' AND b = {y}\"\"\" """)
    assert isinstance(node, ast.JoinedStr)
    escaped = escaped_in_quotes(node)
    values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    assert escaped == {id(values[0])}


def test_an_escaped_value_outside_quotes_is_not_safe() -> None:
    node = expr("""f\"\"\"SELECT * FROM t WHERE a = {x.replace("'", "''")}\"\"\" """)
    assert escaped_in_quotes(node) == set()


def test_escaped_values_of_a_format_call_by_position_and_name() -> None:
    node = expr(
        """"a = '{}' AND b = '{1}' AND c = '{c}' AND d = {}".format("""
        """x.replace("'", "''"), y.replace("'", "''"), z, c=w.replace("'", "''"))"""
    )
    assert isinstance(node, ast.Call)
    first, second, _third = node.args
    keyword = node.keywords[0].value
    assert escaped_in_quotes(node) == {id(first), id(second), id(keyword)}


def test_a_broken_format_string_escapes_nothing() -> None:
    assert escaped_in_quotes(expr(""" "a = '{'".format(x.replace("'", "''")) """)) == set()

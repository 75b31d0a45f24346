"""Binding values concatenated into SQL with `+`: the literals joined around the placeholder,
the values put where the call takes them; no binding when it is unsafe."""

from __future__ import annotations

import pytest

from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS, sql_call
from dbheal_lsp.languages.javascript.concat_binding import bind_concatenation, operands
from dbheal_lsp.languages.javascript.edits import applied
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.parse import Parsers


def _target(text: str) -> Target:
    source = Parsers().tree("a.js", text)
    stack = [source.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            call = sql_call(node, source, DEFAULT_CALLS)
            if call is not None:
                return Target(source, call)
        stack.extend(reversed(node.children))
    raise AssertionError("no SQL call")


def _bound(text: str) -> str | None:
    """`text` with every identifier operand of its SQL chain bound (None: refused)."""
    target = _target(text)
    chain = operands(target.call.sql, target) or []
    names = [(o, target.source.text_of(o)) for o in chain if o.type == "identifier"]
    edits = bind_concatenation(target, names)
    return None if edits is None else applied(target.source.data, edits).decode()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            'db.all("SELECT 1 WHERE a = \'" + a + "\' AND b = ?", [b]);',
            'db.all("SELECT 1 WHERE a = ? AND b = ?", [a, b]);',
        ),
        ("db.get('SELECT 1 WHERE a = ' + a);", "db.get('SELECT 1 WHERE a = ?', [a]);"),
        (
            "c.query(`SELECT 1 WHERE a = $1 AND b = ` + b + ` LIMIT 1`, [a]);",
            "c.query(`SELECT 1 WHERE a = $1 AND b = $2 LIMIT 1`, [a, b]);",
        ),
        (
            "db.all(\"SELECT 1 WHERE a LIKE '%\" + a + \"_é%' ESCAPE '!'\");",
            'db.all("SELECT 1 WHERE a LIKE ? ESCAPE \'!\'", ["%" + a + "_é%"]);',
        ),
        (
            'db.prepare("SELECT 1 WHERE a = " + a + " AND é = " + e).get();',
            'db.prepare("SELECT 1 WHERE a = ? AND é = ?").get(a, e);',
        ),
    ],
)
def test_values_are_bound_and_the_literals_joined(before: str, after: str) -> None:
    assert _bound(before) == after


@pytest.mark.parametrize(
    "text",
    [
        'db.all("SELECT 1 WHERE a = \'" + a + "\' OR b = \'x" + a);',  # a string left open
        "db.all('SELECT 1 WHERE a = \\'' + a + '\\'');",  # the SQL quote is the JS quote
        "db.all(\"SELECT 1 WHERE a = '\" + a + '\\'');",  # two quote styles
        'db.all("SELECT a, " + a + " FROM t");',  # a column
        'db.all("SELECT 1 WHERE " + a);',  # a piece of SQL
        'db.all(a + " = 1");',  # no literal before it
        'db.all("SELECT 1 WHERE a = " + a + b);',  # two values in a row
        'db.all("SELECT 1 WHERE a = " + a, values);',  # the values in a name
    ],
)
def test_no_binding_where_it_would_change_the_query(text: str) -> None:
    assert _bound(text) is None


def test_a_chain_of_another_operator_has_no_operands() -> None:
    target = _target('db.all("SELECT " + (a - b));')
    (_, right) = operands(target.call.sql, target) or []

    assert operands(right, target) is None

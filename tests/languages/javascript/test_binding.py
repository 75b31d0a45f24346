"""Binding `${...}` values of a call's SQL template: the placeholders in the driver's style, the
values put where the call takes them, in the placeholders' order; no binding when it is unsafe."""

from __future__ import annotations

import pytest

from dbheal_lsp.languages.javascript.binding import Bound, bind
from dbheal_lsp.languages.javascript.calls import DEFAULT_CALLS, sql_call
from dbheal_lsp.languages.javascript.edits import applied
from dbheal_lsp.languages.javascript.fix_target import Target
from dbheal_lsp.languages.javascript.parse import Parsers


def _bound(text: str) -> str | None:
    """`text` with every `${...}` of its first SQL call's template bound (None: refused)."""
    source = Parsers().tree("a.js", text)
    stack = [source.tree.root_node]
    calls = []
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            call = sql_call(node, source, DEFAULT_CALLS)
            if call is not None:
                calls.append(call)
        stack.extend(node.children)
    call = min(calls, key=lambda c: c.call.start_byte)
    target = Target(source, call)
    subs = [c for c in call.sql.children if c.type == "template_substitution"]
    edits = bind(target, [Bound(s, source.text_of(s.named_children[0])) for s in subs])
    return None if edits is None else applied(source.data, edits).decode()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A new ? before an old one: its value goes before the old value.
        (
            "db.all(`SELECT 1 WHERE a = ${x} AND b = ?`, [b]);",
            "db.all(`SELECT 1 WHERE a = ? AND b = ?`, [x, b]);",
        ),
        (
            "db.get(`SELECT 1 WHERE a = ? AND b = ${x}`, 5, (e) => e);",
            "db.get(`SELECT 1 WHERE a = ? AND b = ?`, 5, x, (e) => e);",
        ),
        ("db.all(`SELECT 1 WHERE a = ${x}`, []);", "db.all(`SELECT 1 WHERE a = ?`, [x]);"),
        (
            "db.run(`INSERT INTO t (a, b) VALUES (${a}, '${b}')`);",
            "db.run(`INSERT INTO t (a, b) VALUES (?, ?)`, [a, b]);",
        ),
        (
            "p.$queryRawUnsafe(`SELECT 1 WHERE a = ${x}`);",
            "p.$queryRawUnsafe(`SELECT 1 WHERE a = ?`, x);",
        ),
        (
            "db.prepare(`SELECT 1 WHERE a = ${x} LIMIT ${n}`).all();",
            "db.prepare(`SELECT 1 WHERE a = ? LIMIT ?`).all(x, n);",
        ),
        (
            "c.query({ text: `SELECT 1 WHERE a = $1 AND b = ${x}`, values: [a] });",
            "c.query({ text: `SELECT 1 WHERE a = $1 AND b = $2`, values: [a, x] });",
        ),
        (
            "db.all(`SELECT 1 WHERE a LIKE '%${t}%' AND b = '${t}${u}'`);",
            "db.all(`SELECT 1 WHERE a LIKE ? AND b = ?`, [`%${t}%`, `${t}${u}`]);",
        ),
    ],
)
def test_values_are_bound_where_the_call_takes_them(before: str, after: str) -> None:
    assert _bound(before) == after


def test_a_query_object_without_values_is_given_them() -> None:
    before = "c.query({ text: `SELECT 1 WHERE a = ${x}`, rowMode: 'array' });"

    assert _bound(before) == (
        "c.query({ text: `SELECT 1 WHERE a = ?`, values: [x], rowMode: 'array' });"
    )


@pytest.mark.parametrize(
    "text",
    [
        "db.all(`SELECT 1 WHERE ${cond}`);",  # a piece of SQL
        "db.all(`SELECT a, ${col} FROM t`);",  # a column
        "db.all(`SELECT 1 WHERE a IN (${ids})`);",  # a whole list
        'db.all(`SELECT "${col}" FROM t`);',  # a quoted name
        "db.all(`SELECT 1 WHERE a = ${x}`, values);",  # the values in a name
        "db.all(`SELECT 1 WHERE a = ${x} AND b = :b`, {b});",  # named placeholders
        "db.all(`SELECT 1 WHERE a = ${x} AND b = ?`, [b, c]);",  # values that do not match
        "db.exec(`DELETE FROM t WHERE a = ${x}`);",  # a script takes no values
        "db.all(`SELECT 1 WHERE a = 'it''s ${x}'`);",  # a doubled quote inside
    ],
)
def test_no_binding_where_it_would_change_the_query(text: str) -> None:
    assert _bound(text) is None

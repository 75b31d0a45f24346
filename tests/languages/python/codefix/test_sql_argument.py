"""Tests of the model of a SQL argument: its characters and interpolated slots, in source order,
for every shape the code fixes read (string, f-string, concatenation, %, .format())."""

from __future__ import annotations

import libcst as cst

from dbheal_lsp.languages.python.codefix.sql_argument import (
    SqlArgument,
    read_sql,
    split_literal,
    string_value,
)


def _read(code: str) -> SqlArgument:
    model = read_sql(cst.parse_expression(code))
    assert model is not None, code
    return model


def _code(node: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(node)


def _shape(model: SqlArgument) -> str:
    """The SQL text with each slot shown as {its Python value}."""
    return "".join(
        i.char if i.char is not None else "{" + _code(i.value) + "}" if i.value else "{?}"
        for i in model.items
    )


def test_a_plain_string_is_its_characters_escapes_decoded() -> None:
    model = _read(r"'SELECT * FROM t WHERE a = \'x\'\n'")
    assert model.kind == "string"
    assert _shape(model) == "SELECT * FROM t WHERE a = 'x'\n"
    # Each character remembers how the code wrote it.
    quote = next(i for i in model.items if i.char == "'")
    assert [u.raw for u in quote.units] == ["\\'"]


def test_an_fstring_has_a_slot_per_field() -> None:
    model = _read('f"SELECT * FROM users WHERE id = {user.id} AND email = {email!r}"')
    assert model.kind == "string"
    slots = [i for i in model.items if i.char is None]
    assert [(s.fstring is not None, s.conversion, s.bare) for s in slots] == [
        (True, "", True),
        (True, "r", False),
    ]
    assert "".join(i.char or "{}" for i in model.items) == (
        "SELECT * FROM users WHERE id = {} AND email = {}"
    )


def test_implicit_concatenation_is_one_string() -> None:
    model = _read('("SELECT id "\n "FROM users")')
    assert model.kind == "string" and _shape(model) == "SELECT id FROM users"


def test_a_plus_chain_has_its_operands_and_a_slot_for_each_value() -> None:
    model = _read('"SELECT * FROM t WHERE a = \'" + name + "\' AND b = " + str(n)')
    assert model.kind == "concat"
    assert len(model.operands) == 4 and len(model.operators) == 3
    assert _shape(model) == "SELECT * FROM t WHERE a = '{name}' AND b = {str(n)}"
    assert [o.leaves is None for o in model.operands] == [False, True, False, True]


def test_percent_formatting_binds_its_values_and_keeps_its_escapes() -> None:
    model = _read("\"SELECT * FROM t WHERE a = %s AND b LIKE 'x%%'\" % (name,)")
    assert model.kind == "percent"
    assert _shape(model) == "SELECT * FROM t WHERE a = {name} AND b LIKE 'x%'"
    assert [i.escape for i in model.items if i.char == "%"] == [True]
    keyed = _read('"SELECT * FROM t WHERE a = %(a)s" % {"a": name}')
    [slot] = [i for i in keyed.items if i.char is None]
    assert slot.key == "a" and _code(slot.value) == "name"  # type: ignore[arg-type]


def test_format_binds_positional_and_keyword_fields() -> None:
    model = _read('"SELECT * FROM t WHERE a = {} AND b = {b:>3}".format(x, b=y)')
    assert model.kind == "format"
    slots = [i for i in model.items if i.char is None]
    assert [(_code(s.value), s.key, s.spec, s.bare) for s in slots if s.value] == [
        ("x", None, "", True),
        ("y", "b", ">3", False),
    ]


def test_shapes_not_handled_are_none() -> None:
    for code in ("sql", "f'{a}' % (b,)", "build(sql)", "b'SELECT 1'", "'%s' % (a, b)"):
        assert read_sql(cst.parse_expression(code)) is None, code


def test_split_literal_and_string_value() -> None:
    assert split_literal('rb"""a"b"""') == ("rb", '"""', 'a"b')
    assert split_literal("'x'") == ("", "'", "x")
    assert split_literal("'x") is None
    assert string_value(cst.parse_expression("'a\\tb'")) == "a\tb"
    assert string_value(cst.parse_expression("b'a'")) is None
    assert string_value(cst.parse_expression("f'a'")) is None

"""Tests of writing the new call: the SQL argument with its edits and the parameters, with
everything not edited (quotes, escapes, parentheses, comments, commas) as the code wrote it."""

from __future__ import annotations

import libcst as cst

from dbheal_lsp.languages.python.codefix.placeholders import Params
from dbheal_lsp.languages.python.codefix.rewrite import (
    dict_params,
    rebuild_call,
    rebuild_sql,
    sequence_params,
    with_commas,
)
from dbheal_lsp.languages.python.codefix.sql_argument import SqlArgument, read_sql


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _model(code: str) -> SqlArgument:
    model = read_sql(cst.parse_expression(code))
    assert model is not None
    return model


def _bind(model: SqlArgument, placeholder: str) -> None:
    """Replace each slot of `model` by `placeholder`, as edit_items marks it."""
    for item in model.items:
        if item.char is not None:
            continue
        if item.fstring is not None:
            item.fstring.removed = True
            item.fstring.before = placeholder
        if item.operand is not None:
            item.operand.removed = True
        for unit in item.units:
            unit.out = ""
        if item.units:
            item.units[0].out = placeholder


def test_an_unedited_argument_is_written_back_as_it_was() -> None:
    for code in (
        r"'SELECT \'a\' FROM t\n'",
        '("SELECT id "  # the ids\n "FROM users")',
        "r'SELECT \\d'",
    ):
        rebuilt = rebuild_sql(_model(code))
        assert rebuilt is not None and _code(rebuilt) == code


def test_an_fstring_without_its_fields_is_a_plain_string() -> None:
    model = _model('f"SELECT * FROM users WHERE id = {user_id}"')
    _bind(model, "?")
    rebuilt = rebuild_sql(model)
    assert rebuilt is not None and _code(rebuilt) == '"SELECT * FROM users WHERE id = ?"'


def test_percent_formatting_leaves_its_template_with_its_parentheses() -> None:
    model = _model("(\"SELECT * FROM t WHERE a = %s AND b LIKE 'x%%'\" % (name,))")
    _bind(model, "?")
    for item in model.items:
        if item.escape:  # "%%" is one "%" once the formatting is gone
            item.units[0].out = "%"
            for unit in item.units[1:]:
                unit.out = ""
    rebuilt = rebuild_sql(model)
    assert rebuilt is not None
    assert _code(rebuilt) == "(\"SELECT * FROM t WHERE a = ? AND b LIKE 'x%'\")"


def test_sequence_params_reuse_the_old_elements_and_layout() -> None:
    old = cst.parse_expression("(\n    a,\n    b,\n)")
    assert isinstance(old, cst.Tuple)
    a, b = (e.value for e in old.elements)
    new = sequence_params(old, [a, b, cst.Name("c")])
    assert _code(new) == "(\n    a,\n    b,\n    c,\n)"
    assert _code(sequence_params(None, [cst.Name("x")])) == "(x,)"
    listed = cst.parse_expression("[a, b]")
    assert isinstance(listed, cst.List)
    x, y = (e.value for e in listed.elements)
    assert _code(sequence_params(listed, [y, x])) == "[b, a]"


def test_dict_params_add_entries_unless_the_dict_unpacks() -> None:
    old = cst.parse_expression('{"a": 1}')
    new = dict_params(old, [("user_id", cst.Name("user_id"))])
    assert new is not None and _code(new) == '{"a": 1, "user_id": user_id}'
    fresh = dict_params(None, [("n", cst.Integer("2"))])
    assert fresh is not None and _code(fresh) == '{"n": 2}'
    assert dict_params(cst.parse_expression("{**base}"), [("n", cst.Integer("2"))]) is None


def test_with_commas_keeps_a_trailing_comma_chosen_and_makes_a_tuple_of_one() -> None:
    old = [cst.Element(cst.Name("a"), comma=cst.Comma())]
    one = with_commas(old, [cst.Element(cst.Name("a"))], tuple_=True)
    assert _code(cst.Tuple(one)) == "(a,)"
    two = with_commas([], [cst.Element(cst.Name("a")), cst.Element(cst.Name("b"))])
    assert _code(cst.Tuple(two)) == "(a, b)"


def test_rebuild_call_puts_the_new_sql_and_parameters_in_place() -> None:
    call = cst.parse_expression('db.execute(f"SELECT * FROM t WHERE id = {i}")  ')
    assert isinstance(call, cst.Call)
    none = Params(None, None, [], [], named=False, args_style=False)
    new_sql = cst.SimpleString('"SELECT * FROM t WHERE id = ?"')
    rebuilt = rebuild_call(call, new_sql, sequence_params(None, [cst.Name("i")]), none)
    assert rebuilt is not None
    assert _code(rebuilt) == 'db.execute("SELECT * FROM t WHERE id = ?", (i,))'
    passed = cst.parse_expression('db.execute("SELECT ?", (a,), timeout=1)')
    assert isinstance(passed, cst.Call)
    params = Params(passed.args[1].value, 1, [cst.Name("a")], [], named=False, args_style=False)
    rebuilt = rebuild_call(
        passed, cst.SimpleString('"SELECT ?, ?"'), cst.parse_expression("(a, b)"), params
    )
    assert rebuilt is not None
    assert _code(rebuilt) == 'db.execute("SELECT ?, ?", (a, b), timeout=1)'
    # asyncpg: the values are the call's own arguments.
    fetch = cst.parse_expression('conn.fetch("SELECT $1", a)')
    assert isinstance(fetch, cst.Call)
    a = fetch.args[1].value
    asyncpg = Params(None, None, [a], [], named=False, args_style=True)
    rebuilt = rebuild_call(fetch, cst.SimpleString('"SELECT $1, $2"'), [a, cst.Name("b")], asyncpg)
    assert rebuilt is not None and _code(rebuilt) == 'conn.fetch("SELECT $1, $2", a, b)'
